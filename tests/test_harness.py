"""The evaluation harness: both modes, missed units, intervals, reports, label-set checks (eval/harness.py)."""

import json
import subprocess
import sys

import pytest

from data.errors import ModelError
from data.labels import LabelSet
from eval.harness import evaluate_predictors
from eval.metrics import HEADLINE_METRICS, encode_cases, headline_metrics, unit_metrics
from models.predictor import Predictor

# Short bulletins written for these tests (never copied from real ones): simplified and traditional script, cited
# statutes and none, administrative and criminal cases, and one header that names its issuer.
BULLETINS = {
    "a_city": (
        "SOURCE: https://example.org/a\nTITLE: 某市公安局网安支队通报三起典型案例\nISSUER: city_police\n---\n"
        "某市公安局网安支队通报近期查处的典型案例如下：\n\n",
        [
            (
                "案例一：某科技公司未落实网络安全等级保护制度案\n民警检查发现，某科技公司运营的网站未开展等级保护测评，"
                "网站日志留存不足六个月。公安机关依据《中华人民共和国网络安全法》第二十一条、第五十九条，"
                "对该公司处以警告，并责令限期整改。",
                "security_duty",
                ["warning", "rectification"],
                [],
                "organization",
            ),
            (
                "案例二：张某使用翻墙软件案\n张某在家中私自使用VPN软件访问境外网站。公安机关依据"
                "《计算机信息网络国际联网管理暂行规定》第十四条，对张某给予警告，并处罚款一千元。",
                "vpn_circumvention",
                ["warning", "fine"],
                [1000],
                "individual",
            ),
            (
                "案例三：李某某出售公民个人信息案\n李某某通过网络群组出售公民个人信息两万余条，非法获利三万元，"
                "已被公安机关刑事拘留。",
                "personal_info_crime",
                ["criminal_detention"],
                [],
                "individual",
            ),
        ],
        "\n\n请广大网民遵守法律法规，共同维护网络安全。\n",
    ),
    "b_mirror": (
        "SOURCE: https://example.org/b\nTITLE: 網警通報兩起案例\n---\n",
        [
            (
                "案例一：某網吧未落實實名登記制度案\n民警檢查發現，某網吧未核驗上網人員身份證件。公安機關依據"
                "《網絡安全法》第二十四條、第六十一條，對該網吧處以罰款五萬元，並責令改正。",
                "real_name",
                ["fine", "rectification"],
                [50000],
                "organization",
            ),
            (
                "案例二：王某散布謠言案\n王某在微信群中編造、散布疫情謠言，造成惡劣影響。公安機關依法對王某處以行政拘留五日。",
                "rumor_and_cyberbullying",
                ["admin_detention"],
                [],
                "individual",
            ),
        ],
        "\n",
    ),
    "c_news": (
        "SOURCE: https://example.org/c\nTITLE: 警方打击网络赌博\n---\n",
        [
            (
                "案例一：赵某开设网络赌场案\n赵某搭建网络赌博平台，组织他人参赌，涉案流水五百余万元。"
                "公安机关将赵某抓获，检察机关已对其批准逮捕。",
                "online_gambling",
                ["arrest"],
                [],
                "individual",
            ),
            (
                "案例二：某公司APP违规收集个人信息案\n某公司APP未经用户同意收集通讯录信息。网信部门依据"
                "《个人信息保护法》第六十六条，责令该公司改正，并处罚款十万元。",
                "personal_info_admin",
                ["rectification", "fine"],
                [100000],
                "organization",
            ),
        ],
        "\n",
    ),
}
N_UNITS = sum(len(cases) for _, cases, _ in BULLETINS.values())


def _record(doc: str, case: tuple) -> dict:
    text, offense, penalties, fines, party = case
    return {
        "doc": doc,
        "text": text,
        "offense": offense,
        "penalties": penalties,
        "fine_amounts": fines,
        "party": party,
        "complete": True,
    }


@pytest.fixture
def annotated_dir(tmp_path):
    """The fixture bulletins as ``<doc>.txt`` with gold ``<doc>.jsonl`` beside each."""
    directory = tmp_path / "annotated"
    directory.mkdir()
    for doc, (head, cases, tail) in BULLETINS.items():
        (directory / f"{doc}.txt").write_text(head + "\n\n".join(c[0] for c in cases) + tail, encoding="utf-8")
        lines = [json.dumps(_record(doc, case), ensure_ascii=False) for case in cases]
        (directory / f"{doc}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return directory


@pytest.fixture(scope="module")
def rules(label_set):
    return Predictor.from_pretrained("rules", label_set)


class _DropLastUnit:
    """A predictor whose segmenter loses the last unit of every bulletin."""

    def __init__(self, inner: Predictor) -> None:
        self.name, self.label_set, self.inner = "drop-last", inner.label_set, inner

    def predict_bulletins(self, bulletins):
        return [units[:-1] for units in self.inner.predict_bulletins(bulletins)]

    def predict_units(self, texts):
        return self.inner.predict_units(texts)


def test_harness_scores_missed_unit_as_wrong(annotated_dir, rules, label_set):
    result = evaluate_predictors({"drop": _DropLastUnit(rules)}, [str(annotated_dir)], label_set, None, n_bootstrap=0)
    e2e, unit = result["models"]["drop"]["end_to_end"], result["models"]["drop"]["unit"]
    missed = [row for row in e2e["errors"] if row["wrong"] == ["missed"]]
    assert len(missed) == len(BULLETINS) == e2e["segmentation"]["fn"] and all(
        row["predicted"] is None for row in missed
    )
    assert e2e["n_units"] == N_UNITS  # missed units stay in the denominator
    wrong_offense = sum("offense" in row["wrong"] for row in e2e["errors"])
    assert e2e["metrics"]["offense_accuracy"] == pytest.approx((N_UNITS - len(missed) - wrong_offense) / N_UNITS)
    for name in ("party_accuracy", "primary_penalty_accuracy", "fine_exact_match", "fully_correct"):
        assert e2e["metrics"][name] <= (N_UNITS - len(missed)) / N_UNITS, name
    assert e2e["metrics"]["penalty_micro_f1"] < unit["metrics"]["penalty_micro_f1"]  # a missed unit has no penalties


def test_harness_intervals_collapse_when_every_bulletin_is_the_same(tmp_path, rules, label_set):
    # Three copies of one bulletin: every resample of bulletins pools the same units in the same proportions, so
    # every interval is the point estimate itself. Resampling units instead would give other figures.
    head, cases, tail = BULLETINS["a_city"]
    for copy in range(3):
        doc = f"copy{copy}"
        (tmp_path / f"{doc}.txt").write_text(head + "\n\n".join(c[0] for c in cases) + tail, encoding="utf-8")
        lines = [json.dumps(_record(doc, case), ensure_ascii=False) for case in cases]
        (tmp_path / f"{doc}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = evaluate_predictors({"rules": rules}, [str(tmp_path)], label_set, None, n_bootstrap=50, seed=1)
    for mode in ("end_to_end", "unit"):
        scored = result["models"]["rules"][mode]
        assert set(HEADLINE_METRICS) <= scored["ci"].keys()
        for name, (low, high) in scored["ci"].items():
            assert (low, high) == pytest.approx((scored["metrics"][name],) * 2, abs=1e-12), (mode, name)


def test_harness_bootstrap_is_reproducible_with_seed(annotated_dir, rules, label_set):
    runs = [
        evaluate_predictors({"r": rules}, [str(annotated_dir)], label_set, None, n_bootstrap=30, seed=7)
        for _ in range(2)
    ]
    assert runs[0]["models"]["r"]["unit"]["ci"] == runs[1]["models"]["r"]["unit"]["ci"]


def test_headline_metrics_agree_with_compute_metrics(annotated_dir, rules, label_set):
    from data.annotated import load_annotated_dir

    cases = [c for annotated in load_annotated_dir(annotated_dir, label_set) for c in annotated.cases]
    predicted = rules.predict_units([c.text for c in cases])
    predicted[0] = None  # a missed unit must count wrong in both
    reference = unit_metrics(cases, predicted, label_set)
    fast = headline_metrics(encode_cases(cases, predicted, label_set))
    for name in set(HEADLINE_METRICS) - {"offense_ece"}:
        assert fast[name] == pytest.approx(reference[name]), name


def test_harness_writes_checksum_versions_and_identity(annotated_dir, rules, label_set, tmp_path):
    result = evaluate_predictors(
        {"rules": rules}, [str(annotated_dir)], label_set, tmp_path / "report", n_bootstrap=20
    )
    written = json.loads((tmp_path / "report" / "metrics.json").read_text(encoding="utf-8"))
    assert len(written["data"]["sha256"]) == 64 and len(written["data"]["files"]) == 2 * len(BULLETINS)
    assert {"python", "numpy", "scikit-learn"} <= written["versions"].keys()
    assert written["models"]["rules"]["identity"] == {
        "name": "rules",
        "predictor": "rules",
        "model_type": "rules",
        "label_set": label_set.name,
        "label_set_fingerprint": label_set.fingerprint,
    }
    assert written["models"]["rules"]["unit"] == json.loads(json.dumps(result["models"]["rules"]["unit"]))
    html = (tmp_path / "report" / "report.html").read_text(encoding="utf-8")
    assert '<meta charset="utf-8">' in html and "data:image/png;base64," in html and "<script" not in html
    assert "rules" in (tmp_path / "report" / "report.md").read_text(encoding="utf-8")


def test_harness_reports_unknown_gold_label_with_file_and_line(annotated_dir, rules, label_set, tmp_path):
    gold = annotated_dir / "c_news.jsonl"
    lines = gold.read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1].replace('"personal_info_admin"', '"privacy"')
    gold.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = evaluate_predictors({"rules": rules}, [str(annotated_dir)], label_set, tmp_path / "r", n_bootstrap=0)
    assert len(result["data"]["problems"]) == 1 and f"{gold}:2" in result["data"]["problems"][0]
    assert "'privacy'" in result["data"]["problems"][0] and "1 gold record(s)" in result["table"]
    assert f"{gold}:2" in (tmp_path / "r" / "report.md").read_text(encoding="utf-8")
    assert result["data"]["n_units"]["unit"] == N_UNITS - 1


def test_harness_refuses_predictor_with_other_label_set(annotated_dir, label_set):
    other = LabelSet.from_dict({"name": "mine", "offense": ["a", "b"], "penalties": ["fine"], "party": ["individual"]})
    with pytest.raises(ModelError, match="fingerprint.*--label-set"):
        evaluate_predictors({"mine": Predictor.from_pretrained("rules", other)}, [str(annotated_dir)], label_set, None)


def test_harness_table_lists_every_model_and_the_data(annotated_dir, rules, label_set):
    predictors = {"rules": rules, "drop-last": _DropLastUnit(rules)}
    table = evaluate_predictors(predictors, [str(annotated_dir)], label_set, None, n_bootstrap=10)["table"]
    for mode_title in ("End-to-end", "Unit level"):
        section = table[table.index(mode_title) :]
        assert "| rules |" in section and "| drop-last |" in section
    assert str(annotated_dir) in table and f"{len(BULLETINS)} bulletins, {N_UNITS} gold case units" in table


def test_harness_annotation_file_gives_unit_level_only(annotated_dir, rules, label_set):
    merged = annotated_dir.parent / "units.jsonl"
    merged.write_text(
        "".join(p.read_text(encoding="utf-8") for p in sorted(annotated_dir.glob("*.jsonl"))), encoding="utf-8"
    )
    result = evaluate_predictors({"rules": rules}, [str(merged)], label_set, None, n_bootstrap=10)
    scored = result["models"]["rules"]
    assert "end_to_end" not in scored and scored["unit"]["n_units"] == N_UNITS
    assert scored["unit"]["n_bulletins"] == len(BULLETINS)  # grouped by the records' doc field


def test_harness_slices_split_script_statute_procedure_and_known_issuer(annotated_dir, rules, label_set):
    slices = evaluate_predictors({"r": rules}, [str(annotated_dir)], label_set, None, n_bootstrap=0)["models"]["r"][
        "unit"
    ]["slices"]
    assert slices["script"]["traditional"]["n"] == 2 and slices["script"]["simplified"]["n"] == 5
    assert slices["procedure"]["criminal"]["n"] == 2 and slices["statute"]["no statute"]["n"] == 3
    assert (
        slices["issuer"] == {"city_police": slices["issuer"]["city_police"]}
        and slices["issuer"]["city_police"]["n"] == 3
    )


def test_harness_module_does_not_import_torch():
    code = "import eval.harness, sys; print(bool({'torch', 'transformers', 'models'} & sys.modules.keys()))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_harness_runs_on_real_bulletins(real_dir, rules, label_set, tmp_path):
    result = evaluate_predictors({"rules": rules}, [str(real_dir)], label_set, tmp_path / "real", n_bootstrap=20)
    n_gold = sum(
        1
        for path in real_dir.glob("*.jsonl")
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    )
    assert result["data"]["n_units"]["end_to_end"] + len(result["data"]["problems"]) == n_gold
    from data.annotated import load_annotated_dir

    gold = [case for annotated in load_annotated_dir(real_dir, label_set) for case in annotated.cases]
    predicted = rules.predict_units([case.text for case in gold])
    right = sum(p.offense == g.offense for p, g in zip(predicted, gold, strict=True))
    assert result["models"]["rules"]["unit"]["metrics"]["offense_accuracy"] == pytest.approx(right / len(gold))
    assert (tmp_path / "real" / "report.html").stat().st_size > 10_000


def test_cli_evaluate_prints_table_and_refuses_negative_bootstrap(annotated_dir, capsys):
    from cli import main

    assert main(["-q", "evaluate", "--model", "rules", "--data", str(annotated_dir), "--bootstrap", "5"]) == 0
    assert "| rules |" in capsys.readouterr().out
    assert main(["-q", "evaluate", "--model", "rules", "--data", str(annotated_dir), "--bootstrap", "-1"]) == 1
    assert "bootstrap resamples" in capsys.readouterr().err
