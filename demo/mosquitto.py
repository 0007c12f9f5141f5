"""A real mosquitto on a loopback port: the demo's broker, the bridge benchmark's and the tests'."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

MOSQUITTO = shutil.which("mosquitto") or (
    "/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None
)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Mosquitto:
    """A real mosquitto on a loopback port, which tests may kill and restart."""

    def __init__(
        self,
        directory: Path,
        *,
        users: dict[str, str] | None = None,
        acl: str | None = None,
        tls: tuple[Path, Path, Path] | None = None,
        port: int | None = None,
    ) -> None:
        """``tls``: (CA, certificate, key) files; the listener then speaks only TLS."""
        self.port = port or free_port()
        self.directory = directory
        self.config = directory / "mosquitto.conf"
        lines = [f"listener {self.port} 127.0.0.1", "persistence false", "log_dest stderr"]
        if os.geteuid() == 0:
            # Started as root, mosquitto becomes user "mosquitto", who cannot read a
            # password file in root's private temporary directory.
            lines.append("user root")
        if users is None:
            lines.append("allow_anonymous true")
        else:
            passwords = directory / "passwords"
            passwords.write_text("".join(f"{user}:{secret}\n" for user, secret in users.items()))
            passwords.chmod(0o600)
            subprocess.run(["mosquitto_passwd", "-U", str(passwords)], check=True)
            lines += ["allow_anonymous false", f"password_file {passwords}"]
        if tls is not None:
            ca, certificate, key = tls
            lines += [f"cafile {ca}", f"certfile {certificate}", f"keyfile {key}"]
        if acl is not None:
            (directory / "acl").write_text(acl)
            lines.append(f"acl_file {directory / 'acl'}")
        self.tls = tls is not None
        self.config.write_text("\n".join(lines) + "\n")
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The broker, as the bridge's ``--mqtt`` takes it."""
        if self.tls:
            return f"mqtts://127.0.0.1:{self.port}"
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start the broker and wait until it listens."""
        assert MOSQUITTO is not None
        self.process = subprocess.Popen(
            [MOSQUITTO, "-c", str(self.config)],
            stdout=subprocess.DEVNULL,
            stderr=(self.directory / "mosquitto.log").open("ab"),
            # Ctrl-C reaches the whole process group: the broker must outlive the bridge
            # that still talks to it, so it is stopped by whoever started it, last.
            start_new_session=True,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError("mosquitto did not start")

    def kill(self) -> None:
        """Kill it (a crash, as far as its clients can tell)."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None
