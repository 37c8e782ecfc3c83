"""After four refused releases the node must be exactly as it was: nothing installed."""


def test_no_binary(host):
    assert not host.file("/usr/local/bin/nomad").exists


def test_no_user_or_group(host):
    assert not host.user("nomad").exists
    assert not host.group("nomad").exists


def test_no_directories_or_unit(host):
    for path in ("/etc/nomad.d", "/var/lib/nomad", "/etc/systemd/system/nomad.service"):
        assert not host.file(path).exists, path
