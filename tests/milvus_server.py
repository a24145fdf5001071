"""A real Milvus standalone server (the PyPI ``milvus`` package, 2.3.x) for the network-path tests.

Milvus 2.3 listens on every interface (``*:19530`` and its internal ports) whatever its config says, so
the server runs in a private network namespace (``unshare --net``: only a loopback device, reachable
from nowhere else). A forwarder process inside the namespace accepts connections on a Unix socket and
connects them to the server's 127.0.0.1:19530; a thread of the test process listens on 127.0.0.1 of the
host and forwards to that socket. Clients see ``http://127.0.0.1:<port>``; nothing is exposed beyond
this machine's loopback. Authentication is on (user root, password Milvus: the server's default).

    python tests/milvus_server.py forward SOCKET PORT   # (inside the namespace) the inner forwarder
    python tests/milvus_server.py serve DATA_DIR        # (inside the namespace) the server itself
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

TOKEN = "root:Milvus"
INNER_PORT = 19530
START_TIMEOUT = 120.0


def _pump(a: socket.socket, b: socket.socket) -> None:
    try:
        while True:
            data = a.recv(65536)
            if not data:
                break
            b.sendall(data)
    except OSError:
        pass
    finally:
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def _serve_forward(listener: socket.socket, connect, stop: threading.Event | None = None) -> None:
    """Accept on ``listener``; pipe each connection to a fresh ``connect()`` socket, both ways."""
    while stop is None or not stop.is_set():
        try:
            client, _ = listener.accept()
        except OSError:
            break
        try:
            upstream = connect()
        except OSError:
            client.close()
            continue
        for a, b in ((client, upstream), (upstream, client)):
            threading.Thread(target=_pump, args=(a, b), daemon=True).start()


def _inner_forward(sock_path: str, port: int) -> None:
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(sock_path)
    listener.listen(128)
    print("ready", flush=True)
    _serve_forward(listener, lambda: socket.create_connection(("127.0.0.1", port), timeout=5))


def _inner_serve(data_dir: str) -> None:
    from milvus import MilvusServer, MilvusServerConfig

    class Config(MilvusServerConfig):
        def try_bind_port(self, port):
            # The launcher probes ports without SO_REUSEADDR, so after a kill the default ports in
            # TIME_WAIT look taken and it would move the server to others; the Go server reuses them.
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", port))
                sock.listen()
                return sock
            except OSError:
                sock.close()
                return None

    config = Config(data_dir=data_dir)
    config.set("authorization_enabled", True)
    config.set("common.session.ttl", 5)  # a killed server's sessions expire quickly on restart
    server = MilvusServer(config)
    signal.signal(signal.SIGTERM, lambda *_: (server.stop(), sys.exit(0)))
    server.start()
    print(f"started {server.server_proc.pid}", flush=True)
    server.wait()


class MilvusServerProcess:
    """A Milvus 2.3 server in its own network namespace, reached at :attr:`uri` through forwarders."""

    def __init__(self, base: Path) -> None:
        self.base = Path(base)
        self.data_dir = self.base / "milvus"
        self.sock_path = str(self.base / "milvus.sock")
        self.holder: subprocess.Popen | None = None
        self.server: subprocess.Popen | None = None
        self.binary_pid: int | None = None
        self._stop = threading.Event()
        self._listener: socket.socket | None = None
        self.uri = ""

    @staticmethod
    def available() -> str | None:
        """None when this machine can run the server, else why not."""
        try:
            import milvus  # noqa: F401
        except ImportError:
            return "the milvus package (a Milvus 2.3 server binary) is not installed"
        if not shutil.which("unshare") or not shutil.which("nsenter") or not shutil.which("ip"):
            return "needs unshare, nsenter and ip (util-linux, iproute2)"
        if subprocess.run(["unshare", "--net", "true"], capture_output=True).returncode != 0:
            return "cannot create a network namespace here (unshare --net refused)"
        return None

    def start(self) -> str:
        """Start the namespace, its forwarders and the server; returns the client URI."""
        self.base.mkdir(parents=True, exist_ok=True)
        if os.path.exists(self.sock_path):
            os.unlink(self.sock_path)
        self.holder = subprocess.Popen(
            ["unshare", "--net", sys.executable, __file__, "forward", self.sock_path, str(INNER_PORT)],
            stdout=subprocess.PIPE, text=True,
        )
        if self.holder.stdout.readline().strip() != "ready":
            raise RuntimeError("the namespace forwarder did not start")
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(128)

        def unix():
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(self.sock_path)
            return s

        threading.Thread(target=_serve_forward, args=(self._listener, unix, self._stop), daemon=True).start()
        self.uri = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self.start_server()
        return self.uri

    def start_server(self) -> None:
        """(Re)start the server process on the same data directory."""
        self.server = subprocess.Popen(
            ["nsenter", f"--net=/proc/{self.holder.pid}/ns/net", sys.executable, __file__, "serve",
             str(self.data_dir)],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )
        deadline = time.monotonic() + START_TIMEOUT
        line = self.server.stdout.readline()
        if not line.startswith("started") or time.monotonic() > deadline:
            raise RuntimeError(f"the Milvus server did not start (see {self.data_dir}/logs)")
        self.binary_pid = int(line.split()[1])

    def kill_server(self) -> None:
        """The server goes away at once (SIGKILL to the binary and its launcher)."""
        for pid in (self.binary_pid,):
            if pid:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        if self.server is not None:
            self.server.kill()
            self.server.wait(10)
        self.binary_pid = None
        self.server = None

    def stop(self) -> None:
        """Stop everything this object started."""
        self.kill_server()
        self._stop.set()
        if self._listener is not None:
            self._listener.close()
        if self.holder is not None:
            self.holder.kill()
            self.holder.wait(10)


if __name__ == "__main__":
    if sys.argv[1] == "forward":
        _inner_forward(sys.argv[2], int(sys.argv[3]))
    elif sys.argv[1] == "serve":
        _inner_serve(sys.argv[2])
