"""Residents, sensitive data, a patrol with its track and an observation, a task, the day."""

from datetime import datetime, timedelta, timezone

import pytest

import gridwork as g
from fixtures import GRID, household, store_for, worker
from test_work_order import incident


def test_a_day_of_field_work():
    s = store_for()
    day_start = datetime.now(timezone.utc) - timedelta(minutes=1)
    h = s.add_household(household("王秀英", "幸福小区3幢2单元301室", "13812345678"))
    r = s.add_resident(g.ResidentInput(household_id=h, name="王秀英", gender=g.Gender.FEMALE,
                                       birth_year=1948, relation=g.Relation.HEAD, phone=None))
    assert [x.name for x in s.residents_of(h)] == ["王秀英"]
    s.set_sensitive(r, g.SensitiveInput(id_card=None, health="病情稳定",
                                        key_population=g.KeyPopulation.MENTAL_DISORDER,
                                        relief_status=None))
    assert s.sensitive_of(r).health == "病情稳定"
    s.sign_in(g.SignedInUser(user_id="l1", name="志愿者", role=g.Role.LIAISON, scope=GRID))
    with pytest.raises(g.GridworkError.Forbidden):
        s.sensitive_of(r)
    s.sign_in(worker())

    start = datetime.now(timezone.utc)
    p = s.start_patrol(GRID, start, None)
    t0 = int(start.timestamp() * 1000)
    s.add_track_points(p, [g.TrackPoint(t_ms=t0 + i * 1000, lat=32.0 + i * 0.00005, lon=120.86,
                                        accuracy_m=5.0) for i in range(60)])
    s.check_in(p, g.CheckInInput(name="3幢门岗", location=g.Location(lat=32.001, lon=120.86),
                                 at=start + timedelta(seconds=40), point_id=None))
    o = s.add_observation(p, g.ObservationInput(text="楼道堆放杂物", location=None,
                                                at=start + timedelta(seconds=50), photos=[]))
    w = s.report_incident(incident("楼道堆物"))
    s.link_observation_incident(p, o, w)
    s.end_patrol(p, start + timedelta(seconds=60))
    patrol = s.patrol(p)
    assert len(patrol.track) == 60 and patrol.stats.points == 60
    assert patrol.stats.distance_m > 250
    assert patrol.observations[0].incident_id == w

    day = s.my_day(day_start, datetime.now(timezone.utc))
    assert [x.id for x in day.patrols_today] == [p]
    assert [x.id for x in day.open_work_orders] == [w]
    assert day.due_visit_count == 1
    a = s.assessment(GRID, "w1", day_start, datetime.now(timezone.utc) + timedelta(minutes=1))
    assert a.patrols == 1 and a.incidents_reported == 1
