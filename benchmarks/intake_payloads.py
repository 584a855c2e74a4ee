"""The WinCar posts of the intake benchmark: a distinct new claim each, with five documents
of the right formats and sizes, built before timing so that a client only writes bytes.

Each document is its format's header naming the claim (so every file has its own
sha256) followed by random bytes shared between claims, base64-encoded once.
"""
from __future__ import annotations

import base64
import datetime as dt
import json
import random
import struct
import uuid
import zlib
from dataclasses import dataclass

from stdnum.it import codicefiscale

HEAD = 96  # bytes of each document's own header; a multiple of 3, so base64(head + tail) = base64(head) + base64(tail)
KIB = 1024
ENDPOINT = "/api/v1/claims"

INSURERS = ("Assicurazioni Generali", "UnipolSai", "Allianz", "AXA Assicurazioni", "Reale Mutua", "Zurich Italia")
FIRST_NAMES = ("Mario", "Luca", "Giulia", "Francesca", "Marco", "Anna", "Paolo", "Sara", "Andrea",
               "Chiara", "Giuseppe", "Elena", "Stefano", "Laura", "Alessandro", "Valentina")
LAST_NAMES = ("Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci",
              "Marino", "Greco", "Bruno", "Gallo", "Conti", "Mancini", "Costa", "Giordano")
CITIES = (("Roma", "H501"), ("Napoli", "F839"), ("Milano", "F205"), ("Torino", "L219"), ("Bari", "A662"))
STREETS = ("via Appia", "via Toledo", "corso Buenos Aires", "via Po", "corso Cavour", "viale Marconi")
PLATE_LETTERS = "ABCDEFGHJKLMNPRSTVWXYZ"
CONSONANTS = "BCDFGHLMNPRSTVZ"
MONTH_LETTERS = "ABCDEHLMPRST"



def _pdf_head(tag: bytes) -> bytes:
    return b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n% " + tag + b"\n"


def _tiff_head(tag: bytes) -> bytes:
    return b"II*\x00\x08\x00\x00\x00" + tag + b"\x00"


def _png_head(tag: bytes) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", 1654, 2339, 8, 2, 0, 0, 0)  # an A4 scan at 200 dpi, RGB
    text_len = HEAD - 8 - 25 - 12  # the tEXt chunk fills the header exactly
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"tEXt", (b"Comment\x00" + tag).ljust(text_len)[:text_len])


def _jpeg_head(tag: bytes) -> bytes:
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x01\x00\xc8\x00\xc8\x00\x00"
    com_len = HEAD - 2 - len(app0) - 2  # the COM segment (with its 2 length bytes) fills the header
    return b"\xff\xd8" + app0 + b"\xff\xfe" + struct.pack(">H", com_len) + tag.ljust(com_len - 2)[:com_len - 2]


# (type, file name, header, trailer, size in bytes): 2,048 KiB in all.
DOCUMENTS = (
    ("denuncia", "denuncia_modulo_blu.pdf", _pdf_head, b"\n%%EOF\n", 700 * KIB),
    ("mandato", "mandato.pdf", _pdf_head, b"\n%%EOF\n", 300 * KIB),
    ("cessione_credito", "cessione_credito.tif", _tiff_head, b"", 350 * KIB),
    ("richiesta_danni", "richiesta_danni.png", _png_head, b"\x00\x00\x00\x00IEND\xaeB`\x82", 250 * KIB),
    ("documento_identita", "carta_identita.jpg", _jpeg_head, b"\xff\xd9", 448 * KIB),
)
PAYLOAD_BYTES = sum(d[-1] for d in DOCUMENTS)


def document_head(make_head, ref: str, kind: str) -> bytes:
    """The first HEAD bytes of a document: its format's header naming the claim, so each
    claim's files differ (their own sha256) while the rest is shared."""
    head = make_head(f"gessin-bench {ref} {kind}".encode()).ljust(HEAD, b" ")
    assert len(head) == HEAD, (kind, len(head))
    return head


def document_tails(seed: int = 20261012) -> dict[str, tuple[bytes, bytes]]:
    """Per document type: (raw bytes after the header, their base64), random, built once."""
    rng = random.Random(seed)
    tails = {}
    for kind, _name, _head, trailer, size in DOCUMENTS:
        raw = rng.randbytes(size - HEAD - len(trailer)) + trailer
        tails[kind] = raw, base64.b64encode(raw)
    return tails


def plate(n: int) -> str:
    """The n-th Italian plate (AA000AA): distinct for each n."""
    digits, n = n % 1000, n // 1000
    letters = []
    for _ in range(4):
        n, i = divmod(n, len(PLATE_LETTERS))
        letters.append(PLATE_LETTERS[i])
    return f"{letters[3]}{letters[2]}{digits:03d}{letters[1]}{letters[0]}"


def fiscal_code(rng: random.Random, birthplace: str) -> str:
    base = ("".join(rng.choice(CONSONANTS) for _ in range(6)) + f"{rng.randrange(40, 100):02d}"
            + rng.choice(MONTH_LETTERS) + f"{rng.randrange(1, 29) + rng.choice((0, 40)):02d}" + birthplace)
    return base + codicefiscale.calc_check_digit(base)


def claim_fields(rng: random.Random, n: int, ref: str, centre) -> dict:
    """The claim data of one WinCar "nuovo" (as examples/nuovo.json), without attachments."""
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    city, birthplace = rng.choice(CITIES)
    other = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
    insurer_a, insurer_b = rng.sample(INSURERS, 2)
    accident = dt.date.today() - dt.timedelta(days=rng.randrange(1, 60))
    return {
        "event": "nuovo",
        "wincar_ref": ref,
        "asp_centre": {"partita_iva": centre.vat_number, "ragione_sociale": centre.name},
        "customer": {
            "name": f"{first} {last}", "fiscal_code": fiscal_code(rng, birthplace),
            "phone": f"3{rng.randrange(10, 100)} {rng.randrange(1_000_000, 10_000_000)}",
            "email": f"{first.lower()}.{last.lower()}{n}@example.com",
            "address": f"{rng.choice(STREETS)} {rng.randrange(1, 200)}, {city}",
        },
        "accident": {
            "date": accident.isoformat(), "time": f"{rng.randrange(7, 21):02d}:{rng.randrange(60):02d}",
            "place": f"{city}, {rng.choice(STREETS)} {rng.randrange(1, 300)}",
            "vehicle_count": 2,
            "vehicle_a": {"plate": plate(2 * n), "country": "I", "insurer": insurer_a,
                          "policy_number": f"A-{rng.randrange(10**6, 10**7)}", "driver": f"{first} {last}",
                          "circumstances": sorted(rng.sample(range(1, 18), rng.randrange(1, 3)))},
            "vehicle_b": {"plate": plate(2 * n + 1), "country": "I", "insurer": insurer_b,
                          "policy_number": f"B-{rng.randrange(10**6, 10**7)}", "driver": other,
                          "circumstances": sorted(rng.sample(range(1, 18), rng.randrange(1, 3)))},
            "injuries": {"any": False},
            "witnesses": None if rng.random() < 0.5 else f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
            "signed_by_both": rng.random() < 0.8,
        },
        "estimate_amount": f"{rng.randrange(300, 9000)}.{rng.randrange(100):02d}",
        "wincar_assessment": "Indennizzo diretto (art. 149)",
    }


@dataclass
class Post:
    """One pre-built request: the body in pieces (sent one after the other) and its headers."""

    ref: str
    pieces: list[bytes]
    length: int
    headers: dict

    def body(self) -> bytes:
        return b"".join(self.pieces)


class Payloads:
    """Builds the posts: a distinct claim each, documents of the right formats and sizes."""

    def __init__(self, centre, logins: list[tuple[str, str]], seed: int = 20261012):
        self.centre, self.rng, self.n = centre, random.Random(seed), 0
        self.tails = document_tails(seed)
        self.auth = ["Basic " + base64.b64encode(f"{user}:{password}".encode()).decode() for user, password in logins]

    def post(self, tag: str, repairer: int) -> Post:
        self.n += 1
        ref = f"WC-BENCH-{tag}-{self.n:06d}"
        fields = json.dumps(claim_fields(self.rng, self.n, ref, self.centre), ensure_ascii=False)
        pieces, text = [], fields[:-1] + ', "attachments": ['
        for i, (kind, filename, make_head, _trailer, _size) in enumerate(DOCUMENTS):
            item = json.dumps({"type": kind, "filename": filename})[:-1] + ', "content_base64": "'
            text += (", " if i else "") + item
            pieces.append(text.encode() + base64.b64encode(document_head(make_head, ref, kind)))
            pieces.append(self.tails[kind][1])
            text = '"}'
        pieces.append((text + "]}").encode())
        headers = {"Content-Type": "application/json", "Authorization": self.auth[repairer % len(self.auth)],
                   "Idempotency-Key": str(uuid.uuid4()), "Content-Length": str(sum(map(len, pieces)))}
        return Post(ref, pieces, int(headers["Content-Length"]), headers)

    def check(self, post: Post) -> None:
        """The body is the JSON meant: valid, with the documents' exact bytes."""
        data = json.loads(post.body())
        assert [a["type"] for a in data["attachments"]] == [d[0] for d in DOCUMENTS]
        for item, (kind, _name, make_head, _trailer, size) in zip(data["attachments"], DOCUMENTS):
            content = base64.b64decode(item["content_base64"], validate=True)
            assert len(content) == size and content == document_head(make_head, post.ref, kind) + self.tails[kind][0]


