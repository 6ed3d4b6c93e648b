import json
import signal
import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from simulator.engine import SimulationError
from simulator.run import simulate
from simulator.scenario import ScenarioError, load

INTERRUPTED_EXIT = 130  # the shell's code for a program ended by Ctrl-C


class Command(BaseCommand):
    """Ctrl-C or SIGTERM (honcho stopping `make run`'s demo floor, a benchmark ending its soak) stop the run as its
    end does: the engine hangs up the calls it still carries and logs its operators off (`Engine.run`), and the
    command says so in one line, not a traceback."""

    help = "Run a call-center scenario through the production ACD with the built-in simulator."

    def add_arguments(self, parser) -> None:
        parser.add_argument("scenario", help="scenario YAML file (see scenarios/)")
        parser.add_argument("--speed", choices=["max", "realtime"], default="max")
        parser.add_argument("--seed", type=int, default=None, help="random seed (default: the scenario's)")
        parser.add_argument("--hours", type=float, default=None, help="simulate this many hours instead")
        parser.add_argument("--report", default="", help="write the JSON report here")
        parser.add_argument("--quiet", action="store_true", help="no progress bar")

    def handle(self, *args, **options) -> None:
        try:
            scenario = load(options["scenario"])
        except ScenarioError as exc:
            raise CommandError(f"Invalid scenario: {exc}") from exc
        if options["hours"] is not None and options["hours"] <= 0:
            raise CommandError("--hours must be positive.")
        bar = None
        if not options["quiet"]:
            bar = tqdm(total=1000, desc=scenario.name, unit="‰", file=sys.stderr, leave=False)

        def progress(fraction: float) -> None:
            bar.update(int(fraction * 1000) - bar.n)

        signal.signal(signal.SIGTERM, signal.default_int_handler)  # stopped by a supervisor: as Ctrl-C
        try:
            report = simulate(scenario, seed=options["seed"], speed=options["speed"], hours=options["hours"],
                              progress=progress if bar is not None else None)
        except (SimulationError, ValidationError) as exc:
            raise CommandError(str(exc)) from exc
        except KeyboardInterrupt:
            self.stderr.write(f"{scenario.name}: interrupted; the calls still up were hung up and the simulated "
                              "operators logged off.")
            sys.exit(INTERRUPTED_EXIT)
        finally:
            if bar is not None:
                bar.close()
        text = json.dumps(report, indent=2, default=str)
        if options["report"]:
            with open(options["report"], "w") as out:
                out.write(text + "\n")
        t = report["totals"]
        self.stdout.write(f"{scenario.name}: {t['calls']} calls, {t['answered']} answered, {t['abandoned']} "
                          f"abandoned, {t['rejected']} rejected, peak {t['peak_concurrent_calls']} concurrent; "
                          f"{report['run']['events']} events in {report['run']['wall_seconds']} s "
                          f"(account {report['account']})")
