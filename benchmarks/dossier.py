"""Benchmark of the dossier: a claim of 50 documents, 40 MB of PDFs and JPEG photos, bound into one
PDF by the real worker process (`huey_consumer tasks.huey`, as `tests/consumer.py` starts it).

What it does, on a fresh database (SQLite file in a temp directory, or PostgreSQL with
`--backend postgres`, a database whose name contains "bench"):

1. stores the documents of one claim through `workflows.attachments.store_attachment`:
   `--photos` JPEG photos of random noise (which JPEG cannot shrink: each about as large as
   a real phone photo) and the rest multi-page PDFs, each page a scanned-looking image,
   until `--megabytes` in all (not measured);
2. starts the consumer (one worker thread) and waits until it is up; reads its VmHWM;
3. asks for the dossier of every document (`workflows.dossier.request`; by default only the
   latest version of each type but photos would be bound) and queues `tasks.dossier.build_dossier`,
   then polls the row until it is ready: the time from the request to "ready", and the
   build's own time in the worker (`started_at` .. `finished_at`);
4. reads the worker's peak resident memory (VmHWM of /proc/<pid>/status) and checks the
   output: pages = cover + every document's pages, "pag. N di M" on the last page;
5. asks again with the same documents (nothing is rebuilt), then `--runs` - 1 times adds
   one photo and times the rebuild;
6. before each build, in the same run (floor, build, floor, build...), times the floor of
   the same output (benchmarks/dossier_floor.py): the same documents, in the same order,
   bound into one file in this process by img2pdf and pypdf alone, without the worker, the
   queue or the database; it must have the documents' pages. Printed: the medians of the
   builds (from the request, and in the worker) and of the floor, with "x floor".

Target (issue #14): the first build under 10 s and under 200 MB peak for the worker; the
ratio to the floor has no target. Over target is reported, not an error; the exit status is non-zero only when something fails.

Usage:
    .venv/bin/python benchmarks/dossier.py [--documents 50] [--megabytes 40] [--photos 30] [--runs 3]
        [--backend sqlite|postgres] [--pg-url postgresql://...bench...] [--keep]
"""
from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
WORK_DIR = Path(tempfile.mkdtemp(prefix="gessin-bench-dossier-"))
os.environ["GESSIN_INSTANCE"] = str(WORK_DIR / "instance")  # the SQLite task queue lives there
os.environ.pop("HUEY_IMMEDIATE", None)
os.environ.pop("REDIS_URL", None)  # the consumer and this script share the temp SQLite queue

import statistics  # noqa: E402

from benchmarks.common import prepare_postgres, run_main, shown  # noqa: E402
from benchmarks.dossier_floor import bind_floor  # noqa: E402

TARGET_SECONDS, TARGET_MB = 10.0, 200.0


def noise_jpeg(width: int, height: int, quality: int = 85) -> bytes:
    from PIL import Image
    image = Image.frombytes("RGB", (width, height), os.urandom(width * height * 3))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


def scanned_pdf(pages: int, page_bytes: int) -> bytes:
    """A PDF of `pages` A4 pages, each a noise image of about `page_bytes` (a scan, as body shops send)."""
    from fpdf import FPDF
    side = max(64, int((page_bytes / 0.5 / 1.41) ** 0.5))  # noise at quality 60: about 0.5 byte per pixel
    pdf = FPDF()
    for n in range(pages):
        pdf.add_page()
        pdf.image(io.BytesIO(noise_jpeg(side, int(side * 1.41), quality=60)), x=10, y=10, w=190)
    return bytes(pdf.output())


def vm_hwm_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc status")


def load_documents(claim, storage: str, count: int, megabytes: float, photos: int) -> tuple[int, int]:
    from workflows.attachments import store_attachment
    budget = int(megabytes * 1024 * 1024)
    photo_bytes = budget * 3 // 4 // photos
    side = int((photo_bytes / 0.77 / 1.33) ** 0.5)  # noise at quality 85: about 0.77 byte per pixel
    total = pages = 0
    for i in range(photos):
        data = noise_jpeg(int(side * 1.33), side)
        store_attachment(claim, "foto", f"foto-{i + 1:02d}.jpg", data, storage_dir=storage)
        total, pages = total + len(data), pages + 1
    kinds = ("denuncia", "richiesta_danni", "mandato", "cessione_credito", "documento_identita", "preventivo",
             "fattura", "perizia", "altro")
    pdfs = count - photos
    for i in range(pdfs):
        left = max(budget - total, 200_000) // (pdfs - i)
        n = 1 + i % 4
        data = scanned_pdf(n, left // n)
        store_attachment(claim, kinds[i % len(kinds)], f"documento-{i + 1:02d}.pdf", data, storage_dir=storage)
        total, pages = total + len(data), pages + n
    return total, pages


def wait_ready(row_id: int, timeout: float):
    from models import ClaimDossier, DossierState, db
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db.close()
        row = ClaimDossier.get_by_id(row_id)
        if row.state == DossierState.READY:
            return row
        if row.state == DossierState.FAILED:
            raise RuntimeError(f"the build failed: {row.error}")
        time.sleep(0.05)
    raise RuntimeError(f"the dossier was not ready within {timeout:.0f} s")


def build_once(claim, user, consumer_pid: int):
    from tasks.dossier import build_dossier
    from workflows import dossier
    started = time.monotonic()
    row, queued = dossier.request(claim, user, ids=[doc.id for doc in claim.attachments])  # every one, every version
    if queued:
        build_dossier(row.id)
    ready = wait_ready(row.id, 300)
    wall = time.monotonic() - started
    worker = (ready.finished_at - ready.started_at).total_seconds()
    return ready, queued, wall, worker, vm_hwm_mb(consumer_pid)


def floor_once(claim, storage: str, pages: int) -> float:
    """The floor of the dossier of every document of `claim`, in binding order; its seconds."""
    from workflows.attachments import storage_path
    from workflows.dossier import selection_of
    docs = selection_of(claim, [doc.id for doc in claim.attachments])
    documents = [(doc.content_type, storage_path(storage, doc.stored_name)) for doc in docs]
    target = WORK_DIR / "floor.pdf"
    started = time.monotonic()
    bound = bind_floor(documents, target)
    seconds = time.monotonic() - started
    target.unlink()
    if bound != pages:
        raise RuntimeError(f"the floor bound {bound} pages, the documents have {pages}")
    return seconds


def print_ratios(builds: list[tuple[float, float]], floors: list[float]) -> None:
    wall, worker, floor = (statistics.median(b[0] for b in builds), statistics.median(b[1] for b in builds),
                           statistics.median(floors))
    print(f"builds from the request {' '.join(f'{b[0]:.2f}' for b in builds)} s, median {wall:.2f} s, "
          f"{wall / floor:.1f} x floor; in the worker {' '.join(f'{b[1]:.2f}' for b in builds)} s, median "
          f"{worker:.2f} s, {worker / floor:.1f} x floor")
    print(f"floor (img2pdf and pypdf in this process) {' '.join(f'{f:.2f}' for f in floors)} s, median {floor:.2f} s")


def run(args) -> int:
    import logging
    logging.getLogger("gessin").setLevel(logging.WARNING)  # not a line per document stored
    from pypdf import PdfReader

    from app import create_app
    from models import Role, db
    from models.migrate import upgrade
    from tests import factories
    from tests.consumer import Consumer
    from workflows.attachments import storage_path, store_attachment

    url = f"sqlite:///{WORK_DIR / 'bench.db'}" if args.backend == "sqlite" else args.pg_url
    if args.backend == "postgres":
        prepare_postgres(url)
    storage = str(WORK_DIR / "storage")
    app = create_app({"DATABASE_URL": url, "STORAGE_DIR": storage, "SECRET_KEY": "bench", "MAIL_SERVER": None})
    with app.app_context():
        if args.backend == "postgres":
            db.execute_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        upgrade()
        centre = factories.centre(address="Via Dante 3, 20121 Milano (MI)", pec="centro@pec.example.it")
        insurer = factories.insurer(claims_address="Corso Beta 2, 10100 Torino (TO)")
        claim = factories.claim(factories.repairer(address="Via Emilia 10, 40100 Bologna (BO)",
                                                   inspection_hours="lun-ven 9-18"), centre, vehicle_b_insurer=insurer)
        user = factories.user(Role.ASP_MANAGER, asp_centre=centre)
        started = time.monotonic()
        size, doc_pages = load_documents(claim, storage, args.documents, args.megabytes, args.photos)
        print(f"backend {args.backend} ({shown(url)}): {args.documents} documents, {size / 1048576:.1f} MB, "
              f"{doc_pages} pages, stored in {time.monotonic() - started:.1f} s; load average {os.getloadavg()[0]:.2f}")
        db.close()
        consumer = Consumer({**os.environ, "DATABASE_URL": url, "STORAGE_DIR": storage},
                            WORK_DIR / "huey_consumer.log", workers=1)
        consumer.start()
        try:
            deadline = time.monotonic() + 60
            while "Huey consumer started" not in consumer.log_tail() and time.monotonic() < deadline:
                time.sleep(0.1)
            time.sleep(1.0)  # its on_startup hooks: the app is built, the liveness row written
            idle = vm_hwm_mb(consumer.process.pid)
            print(f"worker pid {consumer.process.pid}: VmHWM {idle:.0f} MB when idle")
            floors = [floor_once(claim, storage, doc_pages)]
            row, queued, wall, worker, peak = build_once(claim, user, consumer.process.pid)
            builds, pages = [(wall, worker)], row.pages
            reader = PdfReader(storage_path(storage, row.stored_name))
            last = reader.pages[-1].extract_text()
            if not queued or row.pages != len(reader.pages) or f"pag. {row.pages} di {row.pages}" not in last:
                raise RuntimeError(f"unexpected dossier: {row.pages} pages, last page says {last[-40:]!r}")
            if row.left_out != "[]":
                raise RuntimeError(f"documents left out: {row.left_out}")
            print(f"build: {wall:.2f} s from request to ready ({worker:.2f} s in the worker), "
                  f"{row.pages} pages ({row.pages - doc_pages} of cover), {row.size / 1048576:.1f} MB, "
                  f"worker VmHWM {peak:.0f} MB (+{peak - idle:.0f} MB over idle); floor {floors[0]:.2f} s")
            again, queued_again, wall_again, _w, _p = build_once(claim, user, consumer.process.pid)
            if queued_again or again.stored_name != row.stored_name:
                raise RuntimeError("rebuilt although nothing changed")
            print(f"asked again, same documents: not rebuilt ({wall_again * 1000:.0f} ms)")
            for added in range(1, args.runs):
                store_attachment(claim, "foto", f"foto-extra-{added}.jpg", noise_jpeg(800, 600), storage_dir=storage)
                db.close()
                floors.append(floor_once(claim, storage, doc_pages + added))
                rebuilt, queued_rebuilt, wall_rebuilt, worker_rebuilt, rebuilt_peak = build_once(
                    claim, user, consumer.process.pid)
                if not queued_rebuilt or rebuilt.pages < doc_pages + added + 1 or rebuilt.pages <= pages:
                    raise RuntimeError(f"not rebuilt after a document was added (queued {queued_rebuilt}, "
                                       f"{rebuilt.pages} pages, {pages} before)")  # the cover may grow a page
                pages = rebuilt.pages
                builds.append((wall_rebuilt, worker_rebuilt))
                peak = max(peak, rebuilt_peak)
                print(f"one photo added: rebuilt in {wall_rebuilt:.2f} s ({worker_rebuilt:.2f} s in the worker), "
                      f"{rebuilt.pages} pages, worker VmHWM {rebuilt_peak:.0f} MB; floor {floors[-1]:.2f} s")
            print_ratios(builds, floors)
        finally:
            consumer.stop()
    over = []
    if wall > TARGET_SECONDS:
        over.append(f"{wall:.1f} s > {TARGET_SECONDS:.0f} s")
    if peak > TARGET_MB:
        over.append(f"{peak:.0f} MB > {TARGET_MB:.0f} MB")
    print(f"load average {os.getloadavg()[0]:.2f} at the end")
    print(f"\n{args.backend}: {'OVER TARGET (' + '; '.join(over) + ')' if over else 'OK'} "
          f"(target: under {TARGET_SECONDS:.0f} s and {TARGET_MB:.0f} MB)")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=50)
    parser.add_argument("--megabytes", type=float, default=40)
    parser.add_argument("--photos", type=int, default=30)
    parser.add_argument("--runs", type=int, default=3,
                        help="builds, each after the floor of the same documents, one photo added before each rebuild")
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/gessin_bench_dossier")
    parser.add_argument("--keep", action="store_true", help="keep the temp directory (database, storage, log)")
    args = parser.parse_args()
    if args.photos >= args.documents:
        parser.error("--photos must be fewer than --documents")
    if args.runs < 1:
        parser.error("--runs must be positive")
    return run_main(run, args, WORK_DIR)


if __name__ == "__main__":
    sys.exit(main())
