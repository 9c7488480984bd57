//! Incident categories (事件分类) as an extendable code list of reference data.

use serde::{Deserialize, Serialize};

use crate::error::CoreError;

/// One incident category: a stable code stored in documents, and its display names.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Category {
    /// Stable code (`fire_safety`…): lowercase ASCII letters, digits and `_`. Never renamed.
    pub code: String,
    /// Simplified-Chinese name shown to users (消防安全…).
    pub name_zh: String,
    /// English name (Fire safety…).
    pub name_en: String,
    /// Retired by the district: kept so that orders filed under it still show its name, but no
    /// new report or edit may choose it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub retired: bool,
}

impl Category {
    /// A category with this code and names (validated when added to a [`CategoryList`]).
    pub fn new(
        code: impl Into<String>,
        name_zh: impl Into<String>,
        name_en: impl Into<String>,
    ) -> Self {
        Category {
            code: code.into(),
            name_zh: name_zh.into(),
            name_en: name_en.into(),
            retired: false,
        }
    }

    fn validate(&self) -> Result<(), CoreError> {
        let code_ok = !self.code.is_empty()
            && self.code.len() <= 64
            && self.code.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !code_ok {
            return Err(CoreError::invalid(
                "category",
                format!("code `{}` must be 1–64 lowercase ASCII letters, digits or `_`", self.code),
            ));
        }
        if self.name_zh.trim().is_empty() || self.name_en.trim().is_empty() {
            return Err(CoreError::invalid(
                "category",
                format!("category `{}` needs a Chinese and an English name", self.code),
            ));
        }
        Ok(())
    }
}

/// The incident categories a deployment uses: codes are unique and well-formed. [`Default`] holds
/// the standard list from DOMAIN.md; a district may load its own (e.g. from configuration) or
/// [`push`](CategoryList::push) extra ones. Deserializing validates like [`CategoryList::new`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<Category>", into = "Vec<Category>")]
pub struct CategoryList {
    categories: Vec<Category>,
}

/// The standard categories: (code, zh-CN, English).
const STANDARD: [(&str, &str, &str); 12] = [
    ("safety_hazard", "安全隐患", "Safety hazard"),
    ("fire_safety", "消防安全", "Fire safety"),
    ("dispute", "矛盾纠纷", "Dispute"),
    ("sanitation", "环境卫生", "Environment & sanitation"),
    ("city_appearance", "市容秩序", "City appearance"),
    ("public_facilities", "公共设施", "Public facilities"),
    ("illegal_construction", "违章建筑", "Illegal construction"),
    ("public_order", "社会治安", "Public order"),
    ("food_drug_safety", "食品药品安全", "Food & drug safety"),
    ("epidemic_prevention", "疫情防控", "Epidemic prevention"),
    ("livelihood_help", "民生服务", "Livelihood help"),
    ("other", "其他", "Other"),
];

impl Default for CategoryList {
    /// The twelve standard categories of DOMAIN.md, `other` last.
    fn default() -> Self {
        CategoryList {
            categories: STANDARD.iter().map(|(c, zh, en)| Category::new(*c, *zh, *en)).collect(),
        }
    }
}

impl CategoryList {
    /// A list of exactly these categories, in this order.
    ///
    /// # Errors
    /// [`CoreError::Invalid`] naming `category` when a code is malformed or repeated, or a name is
    /// empty.
    pub fn new(categories: Vec<Category>) -> Result<Self, CoreError> {
        let mut list = CategoryList { categories: Vec::with_capacity(categories.len()) };
        for c in categories {
            list.push(c)?;
        }
        Ok(list)
    }

    /// Adds a category at the end (extending the standard list).
    ///
    /// # Errors
    /// [`CoreError::Invalid`] naming `category` when the code is malformed or already present, or
    /// a name is empty; the list is unchanged.
    pub fn push(&mut self, category: Category) -> Result<(), CoreError> {
        category.validate()?;
        if self.get(&category.code).is_some() {
            return Err(CoreError::invalid(
                "category",
                format!("duplicate category code `{}`", category.code),
            ));
        }
        self.categories.push(category);
        Ok(())
    }

    /// The category with this code, if any.
    pub fn get(&self, code: &str) -> Option<&Category> {
        self.categories.iter().find(|c| c.code == code)
    }

    /// The category with this code, for validating a code typed or received: it must be in the
    /// list and not retired.
    ///
    /// # Errors
    /// [`CoreError::Invalid`] naming `category` when the code is not in the list or retired.
    pub fn lookup(&self, code: &str) -> Result<&Category, CoreError> {
        match self.get(code) {
            Some(c) if c.retired => Err(CoreError::invalid(
                "category",
                format!("category `{code}` was retired by the district"),
            )),
            Some(c) => Ok(c),
            None => Err(CoreError::invalid("category", format!("unknown category `{code}`"))),
        }
    }

    /// Lets `code` be chosen even if retired: an order filed under a category the district has
    /// since retired may keep it when its other details are edited.
    pub fn keep_in_use(&mut self, code: &str) {
        if let Some(c) = self.categories.iter_mut().find(|c| c.code == code) {
            c.retired = false;
        }
    }

    /// The categories a new report may choose (not retired), in list order.
    pub fn active(&self) -> impl Iterator<Item = &Category> {
        self.categories.iter().filter(|c| !c.retired)
    }

    /// The categories, in list order (for pickers).
    pub fn as_slice(&self) -> &[Category] {
        &self.categories
    }

    /// How many categories there are.
    pub fn len(&self) -> usize {
        self.categories.len()
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.categories.is_empty()
    }
}

impl TryFrom<Vec<Category>> for CategoryList {
    type Error = CoreError;

    fn try_from(categories: Vec<Category>) -> Result<Self, CoreError> {
        CategoryList::new(categories)
    }
}

impl From<CategoryList> for Vec<Category> {
    fn from(list: CategoryList) -> Self {
        list.categories
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_has_the_standard_codes() {
        let list = CategoryList::default();
        assert_eq!(list.len(), 12);
        assert!(!list.is_empty());
        assert_eq!(list.lookup("fire_safety").unwrap().name_zh, "消防安全");
        assert_eq!(list.lookup("safety_hazard").unwrap().name_zh, "安全隐患");
        assert_eq!(list.as_slice().last().unwrap().code, "other");
        // The default passes its own validation.
        assert_eq!(CategoryList::new(list.as_slice().to_vec()).unwrap(), list);
    }

    #[test]
    fn unknown_code_is_refused() {
        let err = CategoryList::default().lookup("aliens").unwrap_err();
        assert_eq!(err.code(), "invalid_input");
        assert!(err.to_string().contains("aliens"));
    }

    #[test]
    fn extendable() {
        let mut list = CategoryList::default();
        list.push(Category::new("elevator", "电梯安全", "Elevator safety")).unwrap();
        assert_eq!(list.lookup("elevator").unwrap().name_en, "Elevator safety");
        assert!(list.push(Category::new("elevator", "x", "y")).is_err());
        assert!(list.push(Category::new("Bad Code", "x", "y")).is_err());
        assert!(list.push(Category::new("", "x", "y")).is_err());
        assert!(list.push(Category::new("blank", " ", "y")).is_err());
        assert_eq!(list.len(), 13);
    }

    #[test]
    fn retired_categories_stay_displayable_but_not_choosable() {
        let mut gone = Category::new("elevator", "电梯安全", "Elevator safety");
        gone.retired = true;
        let mut list = CategoryList::default();
        list.push(gone).unwrap();
        assert_eq!(list.get("elevator").unwrap().name_zh, "电梯安全");
        let e = list.lookup("elevator").unwrap_err();
        assert!(e.to_string().contains("retired"), "{e}");
        assert_eq!(list.active().count(), 12);
        let json = serde_json::to_string(&list).unwrap();
        assert_eq!(json.matches("retired").count(), 1, "only the retired one says so");
        assert_eq!(serde_json::from_str::<CategoryList>(&json).unwrap(), list);
    }

    #[test]
    fn serde_validates() {
        let json = serde_json::to_string(&CategoryList::default()).unwrap();
        let back: CategoryList = serde_json::from_str(&json).unwrap();
        assert_eq!(back, CategoryList::default());
        let one = r#"{"code":"a","name_zh":"甲","name_en":"A"}"#;
        let dup = format!("[{one},{one}]");
        assert!(serde_json::from_str::<CategoryList>(&dup).is_err());
    }
}
