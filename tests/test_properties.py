"""Property-based tests (hypothesis): arbitrary bytes and JSON never produce a traceback or a 500, and every input
record comes out as exactly one result (a case, a problem, an error record).

Settings: ``EXAMPLES`` examples per property, no per-example deadline (a slow CI machine is not a failure).
"""

import io
import json
import zipfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from data.errors import AnnotationError, InputError
from data.formats import read_annotations
from data.inputs import InputFailure, read_inputs
from data.labels import LabelSet
from data.reader import BULLETIN_SUFFIXES, Bulletin, read_bulletin_bytes
from models.predictor import Predictor
from web.app import create_app

EXAMPLES = 60
PROPERTY = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
LABELS = LabelSet.load()

# Any JSON value, and records that are near-valid in each annotation format (so the checks past the first are reached).
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
texts = st.text(min_size=1, max_size=60) | st.sampled_from(["案例一：某公司未备案案。对其处以警告。", "王某翻墙"])
gold_records = st.fixed_dictionaries(
    {},
    optional={
        "doc": st.text(max_size=5) | json_values,
        "text": texts | json_values,
        "offense": st.sampled_from(LABELS.offenses) | json_values,
        "penalties": st.lists(st.sampled_from(LABELS.penalties), max_size=3) | json_values,
        "fine_amounts": st.lists(st.integers(min_value=-10, max_value=10**6), max_size=2) | json_values,
        "party": st.sampled_from(LABELS.parties) | json_values,
        "complete": st.booleans() | json_values,
    },
)
doccano_labels = st.lists(
    st.sampled_from([f"offense:{o}" for o in LABELS.offenses] + [f"penalty:{p}" for p in LABELS.penalties])
    | st.sampled_from(["party:individual", "complete:true", "complete:false", "complete:yes", "hacking"])
    | json_values,
    max_size=4,
)
doccano_records = st.fixed_dictionaries(
    {}, optional={"doc": st.text(max_size=5), "text": texts | json_values, "label": doccano_labels | json_values}
)


def _choice(name: str) -> st.SearchStrategy:
    values = {"offense": LABELS.offenses, "penalties": LABELS.penalties, "party": LABELS.parties}.get(name, ("true",))
    return st.fixed_dictionaries(
        {"from_name": st.just(name), "value": st.fixed_dictionaries({"choices": st.lists(st.sampled_from(values))})}
    )


label_studio_results = st.lists(
    _choice("offense")
    | _choice("penalties")
    | _choice("party")
    | _choice("complete")
    | st.fixed_dictionaries(
        {
            "from_name": st.just("fine_amounts"),
            "value": st.fixed_dictionaries(
                {"text": st.lists(st.sampled_from(["1500", "1,500", "2000元", "3千", ""]) | st.text(max_size=6))}
            ),
        }
    )
    | json_values,
    max_size=6,
)
label_studio_tasks = st.fixed_dictionaries(
    {},
    optional={
        "id": st.integers() | json_values,
        "data": st.fixed_dictionaries({}, optional={"text": texts | json_values, "doc": st.text(max_size=5)})
        | json_values,
        "annotations": st.lists(st.fixed_dictionaries({"result": label_studio_results | json_values}), max_size=2)
        | json_values,
    },
)


def _accounted(path: Path, fmt: str, n_records: int) -> None:
    """Each record is one case or one problem; an empty file is one problem; unreadable files are AnnotationError."""
    try:
        loaded = read_annotations(path, LABELS, fmt)
    except AnnotationError:
        return
    assert len(loaded.cases) + len(loaded.problems) == max(n_records, 1)


def _jsonl(records: list[object]) -> str:
    return "".join(json.dumps(r) + "\n" for r in records)  # ASCII escapes: a lone surrogate stays writable


# --- reader --------------------------------------------------------------------------------------------------------


@PROPERTY
@given(raw=st.binary(max_size=2_000), suffix=st.sampled_from(BULLETIN_SUFFIXES))
def test_reader_arbitrary_bytes_give_a_bulletin_or_an_input_error(raw, suffix):
    try:
        bulletin = read_bulletin_bytes(raw, "x" + suffix, suffix)
    except InputError as err:
        assert str(err).startswith("x" + suffix)
        return
    assert isinstance(bulletin, Bulletin) and bulletin.text[bulletin.body_start :].strip()


@PROPERTY
@given(text=st.text(max_size=300))
def test_reader_utf8_text_decodes_to_itself(text):
    raw = text.encode("utf-8", errors="surrogatepass")
    try:
        bulletin = read_bulletin_bytes(raw, "t.txt")
    except InputError:
        return  # empty, NUL bytes, a lone surrogate or only a header: refused with a reason
    assert bulletin.text == text


def _docx_bytes() -> bytes:
    import docx

    document = docx.Document()
    document.add_paragraph("案例一：某公司未备案案。")
    document.add_table(rows=1, cols=2).cell(0, 0).text = "表格"
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


DOCX = _docx_bytes()
DOCX_MEMBERS = zipfile.ZipFile(io.BytesIO(DOCX)).namelist()


@PROPERTY
@given(start=st.integers(0, len(DOCX) - 1), patch=st.binary(min_size=1, max_size=40))
def test_reader_damaged_docx_bytes_give_a_bulletin_or_an_input_error(start, patch):
    damaged = DOCX[:start] + patch + DOCX[start + len(patch) :]
    try:
        read_bulletin_bytes(damaged, "d.docx", ".docx")
    except InputError:
        pass


@PROPERTY
@given(member=st.sampled_from(DOCX_MEMBERS), content=st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_reader_docx_with_an_arbitrary_part_gives_a_bulletin_or_an_input_error(member, content):
    source = zipfile.ZipFile(io.BytesIO(DOCX))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name in DOCX_MEMBERS:
            archive.writestr(name, content if name == member else source.read(name))
    try:
        read_bulletin_bytes(out.getvalue(), "d.docx", ".docx")
    except InputError:
        pass


@PROPERTY
@given(contents=st.lists(st.binary(max_size=200), min_size=1, max_size=6), suffix=st.sampled_from(BULLETIN_SUFFIXES))
def test_read_inputs_yields_one_result_per_file(tmp_path_factory, contents, suffix):
    directory = tmp_path_factory.mktemp("inputs")
    for number, content in enumerate(contents):
        (directory / f"{number}{suffix}").write_bytes(content)
    results = list(read_inputs([str(directory)]))
    assert sorted(r.source for r in results) == sorted(str(directory / f"{n}{suffix}") for n in range(len(contents)))
    assert all(isinstance(r, Bulletin | InputFailure) for r in results)


# --- annotation parsers ----------------------------------------------------------------------------------------------


@PROPERTY
@given(records=st.lists(gold_records | json_values, max_size=6), junk=st.lists(st.binary(max_size=30), max_size=2))
def test_gold_parser_accounts_for_every_line(tmp_path_factory, records, junk):
    path = tmp_path_factory.mktemp("gold") / "g.jsonl"
    lines = [json.dumps(r).encode() for r in records] + [j.replace(b"\n", b" ").replace(b"\r", b" ") for j in junk]
    path.write_bytes(b"\n".join(lines) + b"\n")
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        text = None
    n_records = sum(1 for line in text.splitlines() if line.strip()) if text is not None else 0
    _accounted(path, "gold", n_records)


@PROPERTY
@given(records=st.lists(doccano_records | json_values, max_size=6))
def test_doccano_parser_accounts_for_every_line(tmp_path_factory, records):
    path = tmp_path_factory.mktemp("doccano") / "d.jsonl"
    path.write_text(_jsonl(records), encoding="utf-8")
    _accounted(path, "doccano", len(records))


@PROPERTY
@given(tasks=st.lists(label_studio_tasks | json_values, max_size=5) | json_values)
def test_label_studio_parser_accounts_for_every_task(tmp_path_factory, tasks):
    path = tmp_path_factory.mktemp("labelstudio") / "ls.json"
    path.write_text(json.dumps(tasks), encoding="utf-8")
    _accounted(path, "labelstudio", len(tasks) if isinstance(tasks, list) else 1)


@PROPERTY
@given(raw=st.binary(max_size=300), fmt=st.sampled_from(["gold", "doccano", "labelstudio", "auto"]))
def test_annotation_parsers_take_arbitrary_bytes(tmp_path_factory, raw, fmt):
    path = tmp_path_factory.mktemp("bytes") / "a.json"
    path.write_bytes(raw)
    try:
        read_annotations(path, LABELS, fmt)
    except AnnotationError:
        pass


# --- HTTP API ------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app(Predictor.from_pretrained("rules", LABELS), max_bytes=20_000))


def _check_answer(response, allowed: set[int]) -> None:
    assert response.status_code in allowed, response.text[:300]
    if response.status_code == 200:
        body = response.json()
        assert body["n_cases"] == len(body["cases"])
        assert all(body["text"][c["start"] : c["end"]] == c["text"] for c in body["cases"])


@PROPERTY
@given(body=json_values | st.fixed_dictionaries({"text": texts | json_values}, optional={"source": json_values}))
def test_api_predict_answers_any_json_with_200_or_422(client, body):
    raw = json.dumps(body).encode()
    _check_answer(client.post("/predict", content=raw, headers={"content-type": "application/json"}), {200, 422})


@PROPERTY
@given(raw=st.binary(max_size=500))
def test_api_predict_answers_any_bytes_with_a_client_error_or_200(client, raw):
    # 400: FastAPI's answer to a body that is not UTF-8 at all
    _check_answer(client.post("/predict", content=raw, headers={"content-type": "application/json"}), {200, 400, 422})


@PROPERTY
@given(text=st.text(max_size=400), source=st.text(max_size=10))
def test_api_predict_labels_any_text_with_offsets_into_it(client, text, source):
    raw = json.dumps({"text": text, "source": source}).encode()
    _check_answer(client.post("/predict", content=raw, headers={"content-type": "application/json"}), {200, 422})


@PROPERTY
@given(
    raw=st.binary(max_size=500),
    name=st.text(max_size=12) | st.just(""),
    suffix=st.sampled_from([*BULLETIN_SUFFIXES, "", ".exe"]),
)
def test_api_predict_file_answers_any_upload_with_200_or_422(client, raw, name, suffix):
    files = {"file": ((name + suffix).encode("utf-8", "surrogatepass").decode("utf-8", "replace"), raw)}
    _check_answer(client.post("/predict/file", files=files), {200, 422})
