"""``tastemaker labels …``: check the labeler and (re)compute ability labels from the command line.

  tastemaker labels classify < posts.jsonl      {"text": …} per line -> {"vertical", "confidence", "scores",
                                                "terms"} per line ("vertical" null: about none of them)
  tastemaker labels eval FILE [--json]          {"text", "vertical"[, "lang", "style"]} per line -> top-1
                                                accuracy overall, per language, vertical and style
  tastemaker labels train [--rebuild]           the shipped model: its size, load time and held-out accuracy
                                                (--rebuild: train it again from data/, as
                                                ``python -m tastemaker.experts.training`` does)
  tastemaker labels recompute [--user NAME]     recompute ability labels (everyone with recent output)

Bad input lines (empty, not JSON, no text) are reported on stderr with their line number; every
other line is still processed, and the exit status is 1 if any line was bad.
"""

from __future__ import annotations

import json
import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

BATCH = 256


def _parse(line: str, lineno: int, need_vertical: bool = False) -> tuple[dict | None, str | None]:
    if not line.strip():
        return None, f"line {lineno}: empty line"
    try:
        row = json.loads(line)
    except ValueError as exc:
        return None, f"line {lineno}: not valid JSON ({exc.msg})"
    if not isinstance(row, dict):
        return None, f'line {lineno}: expected a JSON object like {{"text": "…"}}'
    text = row.get("text")
    if not isinstance(text, str) or not text.strip():
        return None, f'line {lineno}: "text" must be a non-empty string'
    if need_vertical and (not isinstance(row.get("vertical"), str) or not row["vertical"]):
        return None, f'line {lineno}: "vertical" must be a vertical slug'
    return row, None


class Command(BaseCommand):
    help = "Classify text into verticals, evaluate the labeler, recompute ability labels."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("classify", help='JSON lines {"text": …} on stdin -> {"vertical", "scores"} on stdout')
        ev = sub.add_parser("eval", help="top-1 accuracy on a labelled JSON-lines file")
        ev.add_argument("file")
        ev.add_argument("--json", action="store_true", help="print the result as JSON")
        tr = sub.add_parser("train", help="the shipped model: size, load time, held-out accuracy")
        tr.add_argument("--rebuild", action="store_true", help="train the model file again from data/ first")
        rc = sub.add_parser("recompute", help="recompute ability labels")
        rc.add_argument("--user", help="only this username")

    def handle(self, *args, action: str, **opts):
        return getattr(self, f"_{action}")(**opts)

    def _err(self, message: str) -> None:
        self.stderr.write(message)

    # --- classify ---------------------------------------------------------------------------
    def _classify(self, **_opts):
        from tastemaker.experts.labeler import get_labeler

        labeler = get_labeler()
        stdin = getattr(self, "stdin", None) or sys.stdin
        bad = 0
        batch: list[str] = []

        threshold = settings.LABEL_MIN_CONFIDENCE

        def flush():
            for pred in labeler.label_many(batch):
                labelled = pred.confidence >= threshold
                self.stdout.write(json.dumps({"vertical": pred.vertical if labelled else None,
                                              "confidence": round(pred.confidence, 4), "scores": pred.scores,
                                              "terms": pred.terms if labelled else []}, ensure_ascii=False))
            self.stdout.flush()
            batch.clear()

        for lineno, line in enumerate(stdin, 1):
            row, error = _parse(line, lineno)
            if error:
                flush()  # keep output in input order
                self._err(error)
                bad += 1
                continue
            batch.append(row["text"])
            if len(batch) >= BATCH:
                flush()
        flush()
        if bad:
            sys.exit(1)

    # --- eval -------------------------------------------------------------------------------
    def _eval(self, file: str, json: bool = False, **_opts):  # noqa: A002
        import json as jsonlib

        from tastemaker.experts.labeler import evaluate, get_labeler

        try:
            handle = open(file, encoding="utf-8")  # noqa: SIM115
        except OSError as exc:
            raise CommandError(f"cannot read {file}: {exc.strerror}") from None
        rows, bad = [], 0
        with handle:
            for lineno, line in enumerate(handle, 1):
                row, error = _parse(line, lineno, need_vertical=True)
                if error:
                    self._err(error)
                    bad += 1
                else:
                    rows.append(row)
        if not rows:
            raise CommandError("no valid lines to evaluate")
        result = evaluate(rows, get_labeler())
        result["bad_lines"] = bad
        if json:
            self.stdout.write(jsonlib.dumps(result, indent=2))
        else:
            self._print_eval(result)
        if bad:
            sys.exit(1)

    def _print_eval(self, result: dict) -> None:
        out = self.stdout
        out.write(f"top-1 accuracy: {result['accuracy']:.4f} ({result['n']} texts)")
        out.write(f"labelled correctly (confidence at least LABEL_MIN_CONFIDENCE): {result['labelled_correctly']:.4f}")
        for table, title in (("per_language", "per language:"), ("per_style", "per style:"),
                             ("per_vertical", "per vertical:")):
            if table in result:
                out.write(title)
                for key, v in result[table].items():
                    out.write(f"  {key:<10} {v['accuracy']:.4f}  (n={v['n']})")

    # --- train / recompute ------------------------------------------------------------------
    def _train(self, rebuild: bool = False, **_opts):
        from tastemaker.experts import corpus, labeler

        if rebuild:
            from tastemaker.experts import training

            training.build()
            labeler.model_version.cache_clear()
            labeler.forget()
        lab = labeler.get_labeler()
        size = labeler.MODEL_FILE.stat().st_size
        self.stdout.write(f"model: {labeler.MODEL_FILE} ({size / 1024:.0f} KB, version {lab.version}, "
                          f"{len(lab.word_names)} words), loaded in {labeler.load_seconds or 0:.1f} s")
        self.stdout.write("held-out template sentences:")
        self._print_eval(labeler.evaluate(corpus.load(corpus.HELDOUT_FILE), lab))

    def _recompute(self, user: str | None = None, **_opts):
        from tastemaker.accounts.models import User
        from tastemaker.experts import tasks

        if user:
            found = User.objects.filter(username__iexact=user).first()
            if found is None:
                raise CommandError(f"no account @{user}")
            count = tasks.recompute_user(found.pk)
            self.stdout.write(f"@{found.username}: {count} labels")
        else:
            self.stdout.write(f"recomputed labels of {tasks.recompute_all()} creators")
