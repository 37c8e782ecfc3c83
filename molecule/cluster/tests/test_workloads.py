"""The hardened cluster runs jobs, and its tasks cannot reach what they must not.

Every job is submitted as the operator persona (its token, over mTLS, from the
controller with the operator's env file): never with the management token.
"""
import json
import os
import re
import shlex
import subprocess
import tempfile
import time

import pytest
from conftest import CLIENT, NOMAD_BINARY, SECRETS, address, node

# The client runs exec and docker (molecule.yml: nomad_client_drivers); no registry is
# reachable, so docker tasks use an image imported on the client.
DOCKER_IMAGE = "hn-busybox:local"
# What the client's host volume holds (molecule.yml: nomad_client_host_volumes).
VOLUME_NAME = "shared-data"
VOLUME_PATH = "/srv/nomad-shared"

SECRET_PATHS = [
    "/etc/nomad.d/tls/agent-key.pem",
    "/etc/nomad.d/nomad.hcl",
    "/var/lib/nomad/client/state.db",
    "/etc/shadow",
]


def persona_cli(persona, *args, timeout=120):
    """The Nomad CLI as the operator runs it, with a persona's token instead of the env file's."""
    env_file = SECRETS / "operator" / "nomad.env"
    command = (f". {shlex.quote(str(env_file))} && NOMAD_TOKEN=$(cat {shlex.quote(str(SECRETS / 'tokens' / (persona + '.token')))})"
               f" {shlex.quote(NOMAD_BINARY)} " + " ".join(shlex.quote(a) for a in args))
    return subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=timeout, check=False)


def operator(*args, **kwargs):
    return persona_cli("operator", *args, **kwargs)


def run_job(spec, *options, persona="operator"):
    with tempfile.NamedTemporaryFile("w", suffix=".nomad.hcl", delete=False) as f:
        f.write(spec)
    try:
        return persona_cli(persona, "job", "run", *options, f.name)
    finally:
        os.unlink(f.name)


# Refused tasks fail at once instead of being restarted and rescheduled.
NO_RETRY = """restart {
      attempts = 0
      mode     = "fail"
    }
    reschedule {
      attempts  = 0
      unlimited = false
    }"""


def job(name, task, job_type="batch", group_extra=""):
    return f"""
job "{name}" {{
  datacenters = ["dc1"]
  type        = "{job_type}"
  group "g" {{
    {group_extra}
    task "t" {{
{task}
      resources {{
        cpu    = 50
        memory = 64
      }}
    }}
  }}
}}
"""


def allocs(name):
    listed = operator("job", "allocs", "-json", name)
    assert listed.returncode == 0, listed.stderr
    return json.loads(listed.stdout or "[]")


def wait_for_alloc(name, statuses, seconds=120):
    """The job's first allocation, once its client status is one of `statuses`."""
    deadline = time.monotonic() + seconds
    found = []
    while time.monotonic() < deadline:
        found = allocs(name)
        if found and found[0]["ClientStatus"] in statuses:
            return found[0]
        time.sleep(2)
    raise AssertionError(f"{name}: no allocation in {statuses} after {seconds} s: {found}")


def task_events(alloc):
    return [" ".join(filter(None, (event.get("DisplayMessage"), event.get("ValidationError"))))
            for state in (alloc.get("TaskStates") or {}).values() for event in state.get("Events") or []]


def logs(alloc_id, stream="-stdout"):
    out = operator("alloc", "logs", stream, alloc_id, "t")
    assert out.returncode == 0, out.stderr
    return out.stdout


@pytest.fixture(scope="module")
def cleanup():
    names = []
    yield names
    for name in names:
        operator("job", "stop", "-purge", "-detach", name)


# ---------------------------------------------------------------- what runs


def test_exec_batch_job_runs_unprivileged_and_sees_nothing_of_the_agent(cleanup):
    checks = "; ".join(f"if cat {p} >/dev/null 2>&1; then echo READ {p}; else echo DENIED {p}; fi"
                       for p in SECRET_PATHS)
    script = (f"echo user=$(id -un) uid=$(id -u); {checks}; "
              "ls /etc/nomad.d /var/lib/nomad >/dev/null 2>&1 && echo LISTED agent dirs || echo NO agent dirs; "
              "ls /etc/nomad.d/tls/*-key.pem >/dev/null 2>&1 && echo FOUND keys || echo NO keys; "
              "echo done")
    cleanup.append("hn-exec-batch")
    run = run_job(job("hn-exec-batch", f"""
      driver = "exec"
      config {{
        command = "/bin/sh"
        args    = ["-c", {json.dumps(script)}]
      }}"""))
    assert run.returncode == 0, run.stdout + run.stderr
    alloc = wait_for_alloc("hn-exec-batch", ("complete", "failed"))
    output = logs(alloc["ID"])
    print(f"exec batch job output:\n{output}")
    assert alloc["ClientStatus"] == "complete", (task_events(alloc), output, logs(alloc["ID"], "-stderr"))
    assert alloc["NodeName"] == CLIENT
    assert "user=nobody" in output and "uid=0" not in output
    for path in SECRET_PATHS:
        assert f"DENIED {path}" in output, output
    assert "NO agent dirs" in output and "NO keys" in output and "done" in output


def test_exec_service_job_stays_up_and_answers_on_its_port(cleanup):
    cleanup.append("hn-exec-web")
    run = run_job(job("hn-exec-web", """
      driver = "exec"
      config {
        command = "/usr/bin/python3"
        args    = ["-m", "http.server", "--directory", "/local", "${NOMAD_PORT_http}"]
      }
      template {
        data        = "hello from a hardened task\\n"
        destination = "local/index.html"
      }""", job_type="service", group_extra='network {\n      port "http" {}\n    }'))
    assert run.returncode == 0, run.stdout + run.stderr
    alloc = wait_for_alloc("hn-exec-web", ("running",))
    status = operator("alloc", "status", "-json", alloc["ID"])
    ports = json.loads(status.stdout)["AllocatedResources"]["Shared"]["Ports"]
    port = ports[0]["Value"]
    host_ip = ports[0]["HostIP"]
    assert host_ip == address(CLIENT)
    answer = None
    for _attempt in range(15):
        answer = node(CLIENT).run(f"curl -fsS --max-time 5 http://{host_ip}:{port}/index.html")
        if answer.rc == 0:
            break
        time.sleep(2)
    assert answer.rc == 0, answer.stderr
    assert answer.stdout.strip() == "hello from a hardened task"
    time.sleep(5)
    assert allocs("hn-exec-web")[0]["ClientStatus"] == "running"


def test_alloc_exec_into_a_running_task_is_refused():
    alloc = wait_for_alloc("hn-exec-web", ("running",))
    # The operator persona may alloc-exec (namespace policy write); the client refuses it anyway.
    attempt = operator("alloc", "exec", "-task", "t", alloc["ID"], "/bin/true", timeout=60)
    assert attempt.returncode != 0
    assert "Permission denied" in attempt.stdout + attempt.stderr, attempt.stdout + attempt.stderr


def volume_job(name, read_only):
    claim = "\n      read_only = true" if read_only else ""
    return job(name, """
      driver = "exec"
      volume_mount {
        volume      = "data"
        destination = "/data"
      }
      config {
        command = "/bin/sh"
        args    = ["-c", "cat /data/greeting; if echo x > /data/written 2>/dev/null; then echo WROTE; else echo WRITE REFUSED; fi"]
      }""", group_extra=f'volume "data" {{\n      type   = "host"\n      source = "{VOLUME_NAME}"{claim}\n    }}')


def test_host_volume_is_read_only_by_default(cleanup):
    client = node(CLIENT)
    assert client.run(f"echo from-the-host > {VOLUME_PATH}/greeting").rc == 0
    # A job that wants the volume writable finds no client that offers it so.
    cleanup.append("hn-volume-rw")
    wants_rw = run_job(volume_job("hn-volume-rw", read_only=False))
    assert wants_rw.returncode == 2, wants_rw.stdout + wants_rw.stderr
    assert 'Constraint "missing compatible host volumes"' in wants_rw.stdout, wants_rw.stdout
    assert allocs("hn-volume-rw") == []
    # Claimed read-only, it is mounted: the task reads the host's file and cannot write.
    cleanup.append("hn-volume")
    run = run_job(volume_job("hn-volume", read_only=True))
    assert run.returncode == 0, run.stdout + run.stderr
    alloc = wait_for_alloc("hn-volume", ("complete", "failed"))
    output = logs(alloc["ID"])
    assert alloc["ClientStatus"] == "complete", (task_events(alloc), output)
    assert "from-the-host" in output
    assert "WRITE REFUSED" in output and "WROTE" not in output
    assert not client.file(f"{VOLUME_PATH}/written").exists


# ---------------------------------------------------------------- what is refused


def test_raw_exec_job_is_never_placed(cleanup):
    cleanup.append("hn-raw-exec")
    run = run_job(job("hn-raw-exec", """
      driver = "raw_exec"
      config {
        command = "/bin/id"
      }"""))
    # `job run` exits 2 when the scheduler cannot place the allocation.
    assert run.returncode == 2, run.stdout + run.stderr
    assert "failed to place" in run.stdout and 'Constraint "missing drivers"' in run.stdout, run.stdout
    assert allocs("hn-raw-exec") == []


def test_exec_job_asking_for_root_is_refused(cleanup):
    cleanup.append("hn-as-root")
    run = run_job(job("hn-as-root", """
      driver = "exec"
      user   = "root"
      config {
        command = "/bin/id"
      }""", group_extra=NO_RETRY))
    assert run.returncode in (0, 2), run.stdout + run.stderr
    alloc = wait_for_alloc("hn-as-root", ("failed",))
    events = task_events(alloc)
    assert any(re.search(r'running as user "root" is disallowed', e) for e in events), events


def test_read_only_persona_cannot_submit_a_job():
    run = run_job(job("hn-readonly", """
      driver = "exec"
      config {
        command = "/bin/true"
      }"""), persona="readonly")
    assert run.returncode != 0
    assert "403" in run.stderr and "Permission denied" in run.stderr, run.stderr
    assert "hn-readonly" not in operator("job", "status").stdout


# ---------------------------------------------------------------- docker (an option of the role)


@pytest.fixture(scope="module")
def local_image():
    """A FROM-scratch image with Debian's static busybox, imported on the client (no registry here)."""
    script = ("set -e; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq busybox-static >/dev/null; "
              "d=$(mktemp -d); mkdir -p $d/bin $d/tmp; cp /bin/busybox $d/bin/; "
              "for a in sh echo id cat httpd sleep ls; do ln -s busybox $d/bin/$a; done; "
              f"tar -C $d -c . | docker import - {DOCKER_IMAGE} >/dev/null; rm -rf $d")
    built = node(CLIENT).run(script)
    assert built.rc == 0, built.stderr
    return DOCKER_IMAGE


def docker_job(name, config, job_type="batch", group_extra=NO_RETRY):
    return job(name, f"""
      driver = "docker"
      config {{
        image = "{DOCKER_IMAGE}"
{config}
      }}""", job_type=job_type, group_extra=group_extra)


def test_docker_job_runs_from_a_locally_built_image(cleanup, local_image):
    cleanup.append("hn-docker")
    run = run_job(docker_job("hn-docker", """
        command = "/bin/sh"
        args    = ["-c", "echo hello from docker; id -u"]"""))
    assert run.returncode == 0, run.stdout + run.stderr
    alloc = wait_for_alloc("hn-docker", ("complete", "failed"))
    output = logs(alloc["ID"])
    assert alloc["ClientStatus"] == "complete", (task_events(alloc), output)
    assert "hello from docker" in output


@pytest.mark.parametrize("name, config, refusal", [
    ("hn-docker-privileged", "privileged = true", "Docker privileged mode is disabled on this Nomad agent"),
    ("hn-docker-host-mount", 'volumes = ["/etc/nomad.d:/agent"]', "volumes are not enabled; cannot mount host paths"),
    # mknod is in Nomad's default allow_caps; nomad_docker_allow_caps leaves it out
    ("hn-docker-mknod", 'cap_add = ["mknod"]', "driver does not allow the following capabilities: mknod"),
])
def test_docker_job_asking_for_more_is_refused(cleanup, local_image, name, config, refusal):
    cleanup.append(name)
    run = run_job(docker_job(name, f"""
        command = "/bin/id"
        {config}"""))
    assert run.returncode == 0, run.stdout + run.stderr
    alloc = wait_for_alloc(name, ("failed",))
    events = task_events(alloc)
    assert any(refusal in event for event in events), events
