"""What RunOnce starts at the next logon in test_reboot_resume: ``odfix fix --resume`` on the same
stand-ins. Usage: python resume_driver.py CONFIG.json; exits with the fix report's exit code."""

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from odfix.fix.engine import Engine, FixOptions
from odfix.fix.journal import Journal
from odfix.hosts.windows import WindowsHost


def main(config_path: str) -> int:
    config = json.loads(Path(config_path).read_text(encoding="utf-8"))
    # RunOnce runs after a restart: Windows has just started.
    host = WindowsHost(**config["host"], boot_probe=lambda: datetime.now(UTC))
    options = FixOptions(apply=True, yes=True, resume=True, settle_s=0,
                         resume_argv=config["resume_argv"])
    report = Engine(host, options, Journal(Path(config["journal"]))).run()
    print(json.dumps(report.compact()))
    return report.exit_code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
