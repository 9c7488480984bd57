//! Demo and test data for the seed district, Tongzhou (通州区, 320612): areas down to
//! micro-grids, households with Chinese names and addresses. Deterministic for a given seed, so
//! demos, tests and benchmarks see the same data every run.

use crate::area::{Area, AreaPath};
use crate::household::{HouseholdInput, HouseholdTag};

/// The district's code.
pub const DISTRICT: &str = "320612";

const TOWNS: [&str; 14] = [
    "金沙街道",
    "兴东街道",
    "先锋街道",
    "西亭镇",
    "二甲镇",
    "东社镇",
    "三余镇",
    "十总镇",
    "骑岸镇",
    "五接镇",
    "刘桥镇",
    "平潮镇",
    "平东镇",
    "张芝山镇",
];
const COMMUNITIES: [&str; 8] =
    ["幸福社区", "和平社区", "新华村", "光明社区", "东方村", "园林社区", "金桥村", "永安社区"];
const SURNAMES: &str = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤";
const GIVEN: &str = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂英华建国红梅玉兰志强晓东海燕春梅文斌金凤淑珍德明永刚";
const ROADS: [&str; 8] =
    ["人民路", "建设路", "金沙大道", "新金路", "碧华路", "通甲路", "世纪大道", "银河路"];

/// A small deterministic pseudo-random generator (xorshift64*), enough for demo data.
#[derive(Debug, Clone)]
pub struct DemoRng(u64);

impl DemoRng {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> Self {
        DemoRng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// The next number.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    fn pick<'a>(&mut self, s: &'a [&'a str]) -> &'a str {
        s[self.below(s.len() as u64) as usize]
    }

    fn pick_char(&mut self, s: &str) -> char {
        let n = s.chars().count() as u64;
        s.chars().nth(self.below(n) as usize).unwrap_or('王')
    }
}

/// Adds an area whose path this module built from digits (always valid; skipped otherwise).
fn push(out: &mut Vec<Area>, path: &str, name: String) {
    if let Ok(path) = AreaPath::parse(path) {
        out.push(Area { path, name });
    }
}

/// The demo area tree: the district, `towns` towns, and under each `communities` communities of
/// `grids` grids of `micro_grids` micro-grids.
pub fn areas(towns: usize, communities: usize, grids: usize, micro_grids: usize) -> Vec<Area> {
    let mut out = Vec::new();
    push(&mut out, DISTRICT, "通州区".into());
    for (t, town) in TOWNS.iter().enumerate().take(towns) {
        let tp = format!("{DISTRICT}/{:03}", t + 1);
        push(&mut out, &tp, (*town).into());
        for (c, community) in COMMUNITIES.iter().enumerate().take(communities) {
            let cp = format!("{tp}/{:03}", c + 1);
            push(&mut out, &cp, (*community).into());
            for g in 0..grids.min(99) {
                let gp = format!("{cp}/{:02}", g + 1);
                push(&mut out, &gp, format!("第{}网格", g + 1));
                for m in 0..micro_grids.min(99) {
                    push(
                        &mut out,
                        &format!("{gp}/{:02}", m + 1),
                        format!("第{}-{}微网格", g + 1, m + 1),
                    );
                }
            }
        }
    }
    out
}

/// A Chinese personal name of two or three characters.
pub fn person_name(rng: &mut DemoRng) -> String {
    let mut s = String::new();
    s.push(rng.pick_char(SURNAMES));
    s.push(rng.pick_char(GIVEN));
    if rng.below(3) > 0 {
        s.push(rng.pick_char(GIVEN));
    }
    s
}

/// A mainland mobile number.
pub fn mobile(rng: &mut DemoRng) -> String {
    format!("1{}{:09}", 3 + rng.below(7), rng.below(1_000_000_000))
}

/// A household in `area` with a plausible address, head, size, phone and tags.
pub fn household(rng: &mut DemoRng, area: &AreaPath) -> HouseholdInput {
    let road = rng.pick(&ROADS);
    let building = (1 + rng.below(30)).to_string();
    let unit = (1 + rng.below(4)).to_string();
    let room = format!("{}{:02}", 1 + rng.below(18), 1 + rng.below(4));
    let tags = match rng.below(20) {
        0..=1 => vec![HouseholdTag::ElderlyAlone],
        2 => vec![HouseholdTag::Difficulty, HouseholdTag::Relief],
        3 => vec![HouseholdTag::Disability],
        4..=5 => vec![HouseholdTag::Rental],
        6 => vec![HouseholdTag::GroupRental],
        _ => vec![HouseholdTag::Ordinary],
    };
    HouseholdInput {
        area: area.clone(),
        address: format!("{road}{}号{building}幢{unit}单元{room}室", 1 + rng.below(200)),
        building: Some(building),
        unit: Some(unit),
        room: Some(room),
        head_name: person_name(rng),
        member_count: 1 + rng.below(6) as u32,
        phone: Some(mobile(rng)),
        tags,
    }
}
