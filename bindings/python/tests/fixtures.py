"""Shared data for the tests: one district's areas, a grid worker, household and visit inputs."""

from datetime import datetime, timezone

import gridwork as g

AREAS = [
    g.Area(path="320612", name="通州区"),
    g.Area(path="320612/001", name="金沙街道"),
    g.Area(path="320612/001/001", name="幸福社区"),
    g.Area(path="320612/001/001/01", name="第一网格"),
    g.Area(path="320612/001/001/01/01", name="一号微网格"),
    g.Area(path="320612/001/001/01/02", name="二号微网格"),
    g.Area(path="320612/002", name="兴仁镇"),
]
GRID = "320612/001/001/01"
MICRO = "320612/001/001/01/01"
OTHER_TOWN = "320612/002"


def now():
    return datetime.now(timezone.utc)


def worker(user_id="w1", name="李娟"):
    return g.SignedInUser(user_id=user_id, name=name, role=g.Role.GRID_WORKER, scope=GRID)


def store_for(user=None, path=None, key=None):
    s = g.GridworkStore.open_in_memory() if path is None else g.GridworkStore.open(path, key)
    s.load_areas(AREAS)
    s.sign_in(user or worker())
    return s


def household(head, address, phone=None, tags=None, area=MICRO, members=3):
    return g.HouseholdInput(
        area=area,
        address=address,
        building=None,
        unit=None,
        room=None,
        head_name=head,
        member_count=members,
        phone=phone,
        tags=[g.HouseholdTag.ORDINARY] if tags is None else tags,
    )


def visit(household_id, at, outcome=g.VisitOutcome.MET, situation="", needs="", satisfaction=None,
          location=None, follow_up_due=None):
    return g.VisitInput(
        household_id=household_id,
        visited_at=at,
        kind=g.VisitKind.ROUTINE,
        outcome=outcome,
        situation=situation,
        needs=needs,
        satisfaction=satisfaction,
        knows_worker=None,
        follow_up_due=follow_up_due,
        photos=[],
        location=location,
        incident_id=None,
        task_id=None,
    )


def exchange(src, dst):
    """Sends everything in src's outbox to dst, as a sync through the server would."""
    return dst.apply_changes(src.outbox(1 << 24))


class Recorder(g.DataObserver):
    """A data observer that remembers what it heard."""

    def __init__(self):
        self.heard = []

    def on_data_changed(self, change):
        self.heard.append(change)
