"""The production topology on loopback, for the benchmark, load and fault scripts.

    with Stack(database_url=..., redis_url=...) as stack:
        stack.base_url        # pages: nginx on base_port (or gunicorn directly with nginx=False)
        stack.ws_urls         # ws:// base per daphne process (through nginx: the same base for all)
        stack.daphne_ws_urls  # ws:// base of each daphne process, directly
        stack.kill_daphne(0); stack.start_daphne(0)

gunicorn (sync workers, deploy/gunicorn.conf.py) serves pages, daphne serves /ws/,
nginx routes by path, as in deploy/nginx.conf. Every process is a child of this
one, runs from a private temp dir (nginx gets a generated config there; no system
config is read or touched) and is stopped on exit, also on error. Only processes
this object started are ever signalled.

`sign_in(user, database_url)` makes a signed-in session for a user straight in the
database, so no login page (and no password) is needed. It signs with the same
SECRET_KEY the Stack gives its processes (`bench_secret_key()`: random, made once per
run and passed on to child processes through BENCH_SECRET_KEY).
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import unquote, urlparse

BASE_DIR = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
START_TIMEOUT = 60.0  # seconds for a process to answer on its port

# The project's only authentication backend (settings.AUTHENTICATION_BACKENDS).
AUTH_BACKEND = "accounts.backends.AuthenticationBackend"


class StackError(RuntimeError):
    """A process of the stack did not start (the message carries its log's tail)."""


def bench_secret_key() -> str:
    """The SECRET_KEY of this benchmark run: random, shared with child processes."""
    key = os.environ.get("BENCH_SECRET_KEY")
    if not key:
        key = secrets.token_urlsafe(50)
        os.environ["BENCH_SECRET_KEY"] = key
    return key


def dotenv() -> dict[str, str]:
    """The checkout's .env (made by `make`), for FIELD_ENCRYPTION_KEYS."""
    values: dict[str, str] = {}
    path = BASE_DIR / ".env"
    if path.exists():
        for line in path.read_text().splitlines():
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                name, value = line.split("=", 1)
                values[name.strip()] = value.strip().strip("'\"")
    return values


def field_encryption_keys() -> str:
    keys = os.environ.get("FIELD_ENCRYPTION_KEYS") or dotenv().get("FIELD_ENCRYPTION_KEYS", "")
    if not keys:
        raise StackError("FIELD_ENCRYPTION_KEYS is not set and .env has none: run `make install` first.")
    return keys


def nginx_available() -> bool:
    return Path(NGINX).exists() and os.access(NGINX, os.X_OK)


def wait_for_port(port: int, process: subprocess.Popen, name: str, log: Path, timeout: float = START_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise StackError(f"{name} exited with {process.returncode} before listening on {port}:\n{tail(log)}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise StackError(f"{name} did not listen on 127.0.0.1:{port} within {timeout:.0f} s:\n{tail(log)}")


def port_free(port: int) -> bool:
    with socket.socket() as s:
        # As the servers bind (SO_REUSEADDR): TIME_WAIT left by a previous run does not count.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


class Stack:
    """gunicorn + daphne (+ nginx) on loopback; a context manager."""

    def __init__(
        self,
        *,
        database_url: str,
        redis_url: str,
        channel_layer: str = "pubsub",
        gunicorn_workers: int = 2,
        daphne_processes: int = 1,
        nginx: bool = True,
        env: dict | None = None,
        base_port: int = 18000,
        quiet: bool = False,
    ) -> None:
        if channel_layer not in ("redis", "pubsub"):
            raise ValueError(f"channel_layer must be 'redis' or 'pubsub', not {channel_layer!r}")
        self.database_url = database_url
        self.redis_url = redis_url
        self.channel_layer = channel_layer
        self.gunicorn_workers = gunicorn_workers
        self.daphne_processes = daphne_processes
        self.nginx = nginx
        self.extra_env = dict(env or {})
        self.base_port = base_port
        self.quiet = quiet
        self.notes: list[str] = []
        if nginx and not nginx_available():
            self.nginx = False
            self._say(f"nginx not found at {NGINX} (run bench/setup.sh as root): pages served by gunicorn directly")
        self.gunicorn_port = base_port + 1
        self.daphne_ports = [base_port + 10 + i for i in range(daphne_processes)]
        self.nginx_port = base_port
        host = "127.0.0.1"
        self.base_url = f"http://{host}:{self.nginx_port if self.nginx else self.gunicorn_port}"
        self.daphne_ws_urls = [f"ws://{host}:{port}" for port in self.daphne_ports]
        proxied = [f"ws://{host}:{self.nginx_port}"] * daphne_processes
        self.ws_urls = proxied if self.nginx else list(self.daphne_ws_urls)
        self.origin = f"http://{host}:{self.nginx_port if self.nginx else self.gunicorn_port}"
        self.tmp: Path | None = None
        self._gunicorn: subprocess.Popen | None = None
        self._nginx: subprocess.Popen | None = None
        self._daphnes: list[subprocess.Popen | None] = [None] * daphne_processes
        self._logs: list = []

    # --- environment ---------------------------------------------------

    def process_env(self, *, conn_max_age: int = 60) -> dict[str, str]:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "dhanwantari.settings",
            "DEBUG": "false",
            "SECRET_KEY": bench_secret_key(),
            "BENCH_SECRET_KEY": bench_secret_key(),
            "FIELD_ENCRYPTION_KEYS": field_encryption_keys(),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis_url,
            "CHANNEL_LAYER": self.channel_layer,
            "CONN_MAX_AGE": str(conn_max_age),
            "SECURE_SSL_REDIRECT": "false",
            "BENCH_ENDPOINTS": "true",
            "TASKS_BACKEND": "immediate",
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        }
        if self.tmp is not None:
            env["STATIC_ROOT"] = str(self.tmp / "static")
        env.update({k: str(v) for k, v in self.extra_env.items()})
        return env

    def run_module(
        self, args: list[str], *, what: str, payload: str | None = None, test_client: bool = False, timeout: float
    ) -> str:
        """`python -m <args>` in a Django process on this stack's database; the last line it prints.

        test_client: the process drives django.test.Client (its "testserver"
        host allowed) and renders pages with the stack's static manifest; without
        it the process needs no static files.
        """
        env = self.process_env()
        if test_client:
            env["ALLOWED_HOSTS"] = "testserver,127.0.0.1,localhost"
        else:
            env.pop("STATIC_ROOT", None)
        result = subprocess.run(
            [sys.executable, "-m", *args],
            input=payload,
            capture_output=True,
            text=True,
            cwd=BASE_DIR,
            env=env,
            timeout=timeout,
        )
        if result.returncode:
            raise RuntimeError(f"{what} failed:\n{result.stderr[-4000:]}")
        return result.stdout.strip().splitlines()[-1]

    # --- lifecycle -----------------------------------------------------

    def __enter__(self) -> Stack:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="dh-bench-stack-"))
        ports = [self.gunicorn_port, *self.daphne_ports] + ([self.nginx_port] if self.nginx else [])
        busy = [p for p in ports if not port_free(p)]
        if busy:
            raise StackError(f"ports already in use: {busy} (pass another base_port)")
        self._collectstatic()
        self._start_gunicorn()
        for i in range(self.daphne_processes):
            self.start_daphne(i, wait=False)  # they boot in parallel; awaited below
        if self.nginx:
            self._start_nginx()
        wait_for_port(self.gunicorn_port, self._gunicorn, "gunicorn", self.tmp / "gunicorn.log")
        for i, port in enumerate(self.daphne_ports):
            wait_for_port(port, self._daphnes[i], f"daphne {i}", self.tmp / f"daphne-{i}.log")
        if self.nginx:
            wait_for_port(self.nginx_port, self._nginx, "nginx", self.tmp / "nginx-error.log")
        self._say(
            f"stack up: pages {self.base_url} (gunicorn {self.gunicorn_workers} workers on {self.gunicorn_port}"
            f"{', via nginx' if self.nginx else ''}), daphne on {self.daphne_ports}, channel layer {self.channel_layer}"
        )

    def stop(self) -> None:
        procs = [p for p in [self._nginx, self._gunicorn, *self._daphnes] if p is not None]
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGQUIT if p is self._nginx else signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=5)
        self._nginx, self._gunicorn = None, None
        self._daphnes = [None] * self.daphne_processes
        for f in self._logs:
            f.close()
        self._logs = []
        if self.tmp is not None and not os.environ.get("BENCH_KEEP_TMP"):
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None

    # --- processes -----------------------------------------------------

    def _spawn(self, argv: list[str], log_name: str, env: dict[str, str]) -> subprocess.Popen:
        log = (self.tmp / log_name).open("ab")
        self._logs.append(log)
        return subprocess.Popen(argv, cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT)

    def _collectstatic(self) -> None:
        """Hashed, compressed static files for WhiteNoise (DEBUG off needs the manifest)."""
        result = subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
            cwd=BASE_DIR,
            env=self.process_env(),
            capture_output=True,
            text=True,
            timeout=300,
        )
        if result.returncode:
            raise StackError(f"collectstatic failed:\n{result.stdout}\n{result.stderr}")

    def _start_gunicorn(self) -> None:
        self._gunicorn = self._spawn(
            [
                str(BIN / "gunicorn"),
                "-c",
                str(BASE_DIR / "deploy" / "gunicorn.conf.py"),
                "--workers",
                str(self.gunicorn_workers),
                "--bind",
                f"127.0.0.1:{self.gunicorn_port}",
                "dhanwantari.wsgi:application",
            ],
            "gunicorn.log",
            self.process_env(conn_max_age=60),
        )

    def start_daphne(self, index: int, *, wait: bool = True) -> None:
        """Start daphne `index` (again) on its port and wait until it answers."""
        current = self._daphnes[index]
        if current is not None and current.poll() is None:
            return
        port = self.daphne_ports[index]
        deadline = time.monotonic() + 10
        while not port_free(port) and time.monotonic() < deadline:
            time.sleep(0.1)
        process = self._spawn(
            [str(BIN / "daphne"), "-b", "127.0.0.1", "-p", str(port), "dhanwantari.asgi:application"],
            f"daphne-{index}.log",
            self.process_env(conn_max_age=int(self.extra_env.get("CONN_MAX_AGE", 60))),
        )
        self._daphnes[index] = process
        if wait:
            wait_for_port(port, process, f"daphne {index}", self.tmp / f"daphne-{index}.log")

    def kill_daphne(self, index: int) -> None:
        """SIGKILL daphne `index` (a crash, for the fault tests)."""
        process = self._daphnes[index]
        if process is not None and process.poll() is None:
            process.kill()
            process.wait(timeout=10)
        self._daphnes[index] = None

    def daphne_pid(self, index: int) -> int | None:
        process = self._daphnes[index]
        return process.pid if process is not None and process.poll() is None else None

    def _start_nginx(self) -> None:
        conf = self.tmp / "nginx.conf"
        conf.write_text(self.nginx_config())
        for d in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi", "logs"):
            (self.tmp / d).mkdir(exist_ok=True)
        self._nginx = self._spawn(
            [NGINX, "-p", str(self.tmp), "-c", str(conf), "-g", "daemon off;"], "nginx-stdout.log", dict(os.environ)
        )

    def nginx_config(self) -> str:
        daphnes = "\n".join(f"        server 127.0.0.1:{p};" for p in self.daphne_ports)
        tmp = self.tmp
        user = "user root;\n" if os.geteuid() == 0 else ""
        return f"""{user}worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    types {{ text/css css; application/javascript js; image/svg+xml svg; image/png png; }}
    default_type application/octet-stream;
    sendfile on;
    keepalive_timeout 65;
    client_max_body_size 100m;
    upstream web {{
        server 127.0.0.1:{self.gunicorn_port};
        keepalive 16;
    }}
    upstream ws {{
{daphnes}
    }}
    map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
    server {{
        listen 127.0.0.1:{self.nginx_port};
        server_name 127.0.0.1 localhost;
        location /static/ {{
            alias {tmp}/static/;
            expires max;
            add_header Cache-Control "public, immutable";
        }}
        location /ws/ {{
            proxy_pass http://ws;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_read_timeout 3600s;
            proxy_send_timeout 3600s;
        }}
        location / {{
            proxy_pass http://web;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_buffering on;
        }}
    }}
}}
"""

    def _say(self, text: str) -> None:
        self.notes.append(text)
        if not self.quiet:
            print(f"[stack] {text}", file=sys.stderr, flush=True)


# --- sessions without a login page ---------------------------------------


def _connect(database_url: str):
    import MySQLdb  # mysqlclient, a project dependency

    url = urlparse(database_url)
    if url.scheme not in ("mysql", "mysql2", "mariadb"):
        raise ValueError(f"sign_in needs a MySQL/MariaDB DATABASE_URL, not {url.scheme!r}")
    return MySQLdb.connect(
        host=url.hostname or "127.0.0.1",
        port=url.port or 3306,
        user=unquote(url.username or "root"),
        password=unquote(url.password or ""),
        database=url.path.lstrip("/"),
        charset="utf8mb4",
        autocommit=True,
    )


def sign_in(user, database_url: str, *, connection=None) -> dict[str, str]:
    """Cookies {"sessionid", "csrftoken"} of a new signed-in session for `user` (an instance or a pk).

    The session row is what django.contrib.sessions' SessionStore writes on login
    (auth user id, backend and HASH_SESSION_KEY), encoded and signed with the run's
    SECRET_KEY, so it works whether or not Django is configured in this process.
    Pass `connection` (a MySQLdb connection) to sign many users in on one connection.
    """
    from django.core.signing import JSONSerializer, TimestampSigner
    from django.utils.crypto import get_random_string, salted_hmac

    secret = bench_secret_key()
    pk = str(getattr(user, "pk", user))
    own = connection is None
    conn = connection or _connect(database_url)
    try:
        cursor = conn.cursor()
        cursor.execute("SELECT password FROM users WHERE id = %s", [pk])
        row = cursor.fetchone()
        if row is None:
            raise ValueError(f"no user {pk} in {database_url}")
        salt = "django.contrib.auth.models.AbstractBaseUser.get_session_auth_hash"
        auth_hash = salted_hmac(salt, row[0], secret=secret, algorithm="sha256").hexdigest()
        data = {
            "_auth_user_id": pk,
            "_auth_user_backend": AUTH_BACKEND,
            "_auth_user_hash": auth_hash,
            "_last_seen": int(time.time()),  # accounts.middleware.LAST_SEEN_KEY: no session rewrite on the first hit
        }
        signer = TimestampSigner(key=secret, salt="django.contrib.sessions.SessionStore", fallback_keys=[])
        encoded = signer.sign_object(data, serializer=JSONSerializer, compress=True)
        chars = "abcdefghijklmnopqrstuvwxyz0123456789"
        session_key = get_random_string(32, chars)
        expires = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).replace(tzinfo=None)
        cursor.execute(
            "INSERT INTO django_session (session_key, session_data, expire_date) VALUES (%s, %s, %s)",
            [session_key, encoded, expires],
        )
        cursor.close()
    finally:
        if own:
            conn.close()
    csrf = get_random_string(32)
    return {"sessionid": session_key, "csrftoken": csrf}


def cookie_header(cookies: dict[str, str]) -> str:
    return "; ".join(f"{k}={v}" for k, v in cookies.items())
