"""A real `gridwork-server` process for the sync tests, and its admin API.

`bindings/test.sh` builds the server and passes its path in `GRIDWORK_SERVER_BIN`.
"""

import json
import os
import shutil
import subprocess
import tempfile
import threading
import urllib.request

from fixtures import AREAS

ADMIN_TOKEN = "gwa_00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"


class GridworkServer:
    """Starts the server on a free loopback port with a temporary data directory."""

    def __init__(self):
        binary = os.environ.get("GRIDWORK_SERVER_BIN")
        if not binary:
            raise RuntimeError("GRIDWORK_SERVER_BIN is unset: run the tests with bindings/test.sh")
        self.data_dir = tempfile.mkdtemp(prefix="gridwork-server")
        env = dict(os.environ, GRIDWORK_ADMIN_TOKEN=ADMIN_TOKEN, GRIDWORK_LOG="warn")
        env.pop("GRIDWORK_DATABASE_URL", None)
        env.pop("GRIDWORK_CONFIG", None)
        self.process = subprocess.Popen(
            [binary, "--listen", "127.0.0.1:0", "--data-dir", self.data_dir],
            env=env, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
        )
        addr = None
        for line in self.process.stdout:
            if "listening on http://" in line:
                addr = line.split("listening on http://", 1)[1].strip()
                break
        if addr is None:
            raise RuntimeError("gridwork-server exited before listening")
        # Keep draining stdout so the server never blocks on a full pipe.
        threading.Thread(target=lambda: [None for _ in self.process.stdout], daemon=True).start()
        self.url = f"http://{addr}"

    def admin(self, method, path, body=None):
        """Calls the admin API; returns the decoded JSON answer (raises on a non-2xx status)."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            f"{self.url}/admin/v1{path}", data=data, method=method,
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=30) as answer:
            return json.loads(answer.read() or b"{}")

    def create_areas(self):
        for a in AREAS:
            self.admin("POST", "/areas", {"path": a.path, "name": a.name})

    def create_user(self, name, role, area):
        return self.admin("POST", "/users", {"name": name, "roles": [{"role": role, "area": area}]})["id"]

    def enrolment_code(self, user_id):
        return self.admin("POST", "/enrolment-codes", {"user_id": user_id})["code"]

    def revoke(self, device_id):
        self.admin("POST", f"/devices/{device_id}/revoke")

    def close(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        shutil.rmtree(self.data_dir, ignore_errors=True)
