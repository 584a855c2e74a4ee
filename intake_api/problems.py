"""One way to say an API error: RFC 9457 problem details with the fields that were wrong."""
from __future__ import annotations

from flask import jsonify

from models.connections import RETRY_AFTER_SECONDS, disk_full, unavailable

# pydantic error types -> Italian words for the repairer's software house
PYDANTIC_MESSAGES = {
    "missing": "campo obbligatorio",
    "extra_forbidden": "campo non previsto",
    "string_too_long": "testo troppo lungo (massimo {max_length} caratteri)",
    "string_too_short": "valore mancante o troppo corto",
    "too_short": "valore mancante o troppo corto",
    "too_long": "troppi elementi (massimo {max_length})",
    "literal_error": "valore non ammesso: ammessi {expected}",
    "date_parsing": "data non valida (formato AAAA-MM-GG)",
    "date_from_datetime_parsing": "data non valida (formato AAAA-MM-GG)",
    "date_from_datetime_inexact": "data non valida (formato AAAA-MM-GG)",
    "date_type": "data non valida (formato AAAA-MM-GG)",
    "time_parsing": "ora non valida (formato HH:MM)",
    "time_type": "ora non valida (formato HH:MM)",
    "bool_parsing": "valore vero/falso non valido",
    "bool_type": "valore vero/falso non valido",
    "int_parsing": "numero intero non valido",
    "int_type": "numero intero non valido",
    "int_from_float": "numero intero non valido",
    "decimal_parsing": "importo non valido",
    "decimal_type": "importo non valido",
    "decimal_max_places": "al massimo {decimal_places} decimali",
    "decimal_max_digits": "importo troppo grande",
    "decimal_whole_digits": "importo troppo grande",
    "greater_than_equal": "valore troppo basso (minimo {ge})",
    "less_than_equal": "valore troppo alto (massimo {le})",
    "string_pattern_mismatch": "formato non valido",
    "string_type": "testo atteso",
    "list_type": "elenco atteso",
    "model_type": "oggetto atteso",
    "dict_type": "oggetto atteso",
    "model_attributes_type": "oggetto atteso",
    "bytes_invalid_encoding": "contenuto base64 non valido",
    "bytes_type": "contenuto base64 atteso",
}

TITLES = {
    400: "Richiesta non leggibile",
    401: "Credenziali non valide",
    404: "Risorsa non trovata",
    405: "Metodo non ammesso",
    409: "Pratica modificata nel frattempo",
    413: "Richiesta troppo grande",
    415: "Formato della richiesta non supportato",
    422: "Dati non validi",
    429: "Troppi tentativi",
    500: "Errore interno",
    503: "Servizio momentaneamente non disponibile",
    507: "Spazio di archiviazione esaurito",
}


class ApiProblem(Exception):
    def __init__(self, status: int, detail: str, errors: list[dict] | None = None, headers: dict | None = None):
        super().__init__(detail)
        self.status, self.detail, self.errors, self.headers = status, detail, errors or [], headers or {}

    def body(self) -> dict:
        return {"type": f"https://gessin.restart/problemi/{self.status}", "title": TITLES.get(self.status, "Errore"),
                "status": self.status, "detail": self.detail, "errors": self.errors}

    def response(self):
        response = jsonify(self.body())
        response.status_code = self.status
        response.mimetype = "application/problem+json"
        response.headers.update(self.headers)
        return response


def try_again(detail: str) -> ApiProblem:
    """503 with Retry-After: the same request, sent again as it is, may succeed."""
    return ApiProblem(503, f"{detail} Ripetere lo stesso invio tra {RETRY_AFTER_SECONDS} secondi: un nuovo "
                      "invio della stessa pratica non ne crea una seconda.",
                      headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


def storage_full(detail: str) -> ApiProblem:
    return ApiProblem(507, f"{detail} Nessun documento dell'invio è stato conservato e la pratica non è stata "
                      "registrata né aggiornata: ripetere l'invio più tardi e, se si ripete, avvisare il call "
                      "center RESTART.")


def database_problem(exc: Exception) -> ApiProblem | None:
    """The answer to a fault of the database (lost, busy, full); None for any other error."""
    if unavailable(exc):
        return try_again("Il database del portale non è raggiungibile o è occupato in questo momento.")
    if disk_full(exc):
        return storage_full("Spazio di archiviazione del database esaurito sul portale.")
    return None


def field_errors(pydantic_error) -> list[dict]:
    """pydantic's errors as [{field, message}] in Italian, field as a dotted path."""
    errors = []
    for err in pydantic_error.errors(include_url=False):
        path = ".".join(str(part) for part in err["loc"]) or "(corpo)"
        template = PYDANTIC_MESSAGES.get(err["type"])
        if err["type"] == "value_error":
            message = str(err.get("ctx", {}).get("error") or err["msg"]).removeprefix("Value error, ")
        elif template:
            try:
                message = template.format(**err.get("ctx", {}))
            except (KeyError, IndexError):
                message = template
        else:
            message = "valore non valido"
        errors.append({"field": path, "message": message})
    return errors
