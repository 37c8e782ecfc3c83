"""Offline stand-in for ansible-test's get-pip bootstrap script.

ansible-test --venv downloads get-pip-<version>.py from a host these machines
cannot reach. It runs the script as `python get_pip.py [pip options] pip==X ...`;
this does the same with the interpreter's own ensurepip plus PyPI.
"""
import subprocess
import sys

args = [arg for arg in sys.argv[1:] if arg not in ('--no-setuptools', '--no-wheel')]
subprocess.check_call([sys.executable, '-m', 'ensurepip', '--default-pip'])
subprocess.check_call([sys.executable, '-m', 'pip', 'install'] + args)
