"""Shared fixtures. Nothing here downloads: the hub is switched off before transformers is imported."""

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import shutil  # noqa: E402
import subprocess  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from data.labels import LabelSet  # noqa: E402

FIXTURES = Path(__file__).parent / "fixtures"
REAL_DIR = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "real"


@pytest.fixture(scope="session", autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Tokenised-dataset caches of tests go to a temporary directory, not the user's cache."""
    if "PENALTY_CACHE" not in os.environ:
        os.environ["PENALTY_CACHE"] = str(tmp_path_factory.mktemp("penalty-cache"))


@pytest.fixture
def chromium(tmp_path: Path) -> Callable[..., str]:
    """Runs headless Chromium (the Debian package; CI installs it) with a throwaway profile; returns its stdout.

    Skips the test where no browser is installed, so a developer without one still gets a green suite.
    """
    candidates = (os.environ.get("CHROMIUM"), shutil.which("chromium"), shutil.which("chromium-browser"))
    browser = next((c for c in candidates if c and Path(c).exists()), None)
    if browser is None:
        pytest.skip("chromium is not installed (apt-get install -y chromium); CI installs it")
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
    flags += ["--disable-component-update", "--disable-sync", "--no-first-run"]

    def run(*args: str, env: dict[str, str] | None = None) -> str:
        command = [browser, *flags, f"--user-data-dir={tmp_path / 'chromium-profile'}", *args]
        environment = None if env is None else {**os.environ, **env}
        result = subprocess.run(
            command, capture_output=True, timeout=120, check=True, encoding="utf-8", env=environment
        )
        return result.stdout

    return run


# Whether Chinese really renders, measured in the page: a probe script calls cjkRendering(family) with the page's
# font stack. document.fonts.check alone cannot tell: Chromium answers true for system fonts it never loads, with or
# without a CJK font (both measured). Without one, every Han character is drawn as the font's missing-glyph box: the
# same box for 网 as for 络 and for a private-use character (which no font draws), and as wide as that box (0.37 em in
# DejaVu Sans), where a real Han glyph is one em wide. With Noto Sans CJK the box is one em wide too, so the width of
# six Han characters is compared with six ems, and their pixels with the box's, on a canvas in the page's font.
CJK_RENDER_JS = """
function cjkRendering(family) {
  const sample = "网络安全执法", box = "\\uE000", size = 32;
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = 2 * size;
  const context = canvas.getContext("2d", { willReadFrequently: true });
  context.font = size + "px " + family;
  context.textBaseline = "top";
  const pixels = (text) => {
    context.clearRect(0, 0, canvas.width, canvas.height);
    context.fillText(text, size / 4, size / 4);
    return context.getImageData(0, 0, canvas.width, canvas.height).data.join(",");
  };
  return { family: family, check: document.fonts.check("16px " + family, "网络安全"),
    width: context.measureText(sample).width, fullWidth: sample.length * size,
    boxWidth: context.measureText(box.repeat(sample.length)).width,
    distinct: pixels("网") !== pixels("络"), notBox: pixels("网") !== pixels(box) };
}
"""


def _cjk_font_families() -> list[str]:
    """Font families fontconfig (which Chromium asks) has for Chinese; empty without fc-list or without such a font."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return []
    listed = subprocess.run([fc_list, ":lang=zh", "family"], capture_output=True, text=True, timeout=60).stdout
    return sorted({line.split(",")[0].strip() for line in listed.splitlines() if line.strip()})


@pytest.fixture(scope="session")
def cjk_fonts() -> list[str]:
    """The installed CJK font families. Without one the rendering checks skip with a message (a developer's machine),
    except under CI (``CI=true``), where .ci/run installs fonts-noto-cjk: there a missing font fails the test."""
    families = _cjk_font_families()
    if not families:
        message = "no CJK font is installed (fc-list :lang=zh is empty): apt-get install -y fonts-noto-cjk"
        if os.environ.get("CI"):
            pytest.fail(f"{message}; CI must install one (.ci/run)")
        pytest.skip(f"{message}; Chinese rendering is not checked here (CI installs it)")
    return families


@pytest.fixture
def check_cjk_renders() -> Callable[[dict], None]:
    """Asserts on ``cjkRendering``'s result (``CJK_RENDER_JS``) that Chinese rendered with real glyphs."""

    def check(render: dict) -> None:
        where = f"the font stack {render['family']}"
        assert render["check"], f"document.fonts.check says {where} cannot draw 网络安全"
        widths = f"{render['width']:.0f} px, where six full-width glyphs take {render['fullWidth']} px"
        assert abs(render["width"] - render["fullWidth"]) <= 0.1 * render["fullWidth"], (
            f"网络安全执法 is {widths} (six missing-glyph boxes: {render['boxWidth']:.0f} px) in {where}: "
            "Chinese renders as boxes"
        )
        assert render["distinct"] and render["notBox"], f"网 is drawn as a missing-glyph box in {where}"

    return check


@pytest.fixture(scope="session")
def label_set() -> LabelSet:
    return LabelSet.load()


@pytest.fixture(scope="session")
def real_dir() -> Path:
    """The real evaluation bulletins beside the checkout; tests that need them skip on a user's fresh clone."""
    if not REAL_DIR.is_dir():
        pytest.skip("../shared/data/real is absent (real bulletins are not shipped with the repository)")
    return REAL_DIR


@pytest.fixture(scope="session")
def tiny_base_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny randomly initialised BERT with a ~460-character vocabulary, saved as a local base model.

    The tokenizer must know the characters, or every test would train on ``[UNK]`` runs (and masked-LM tests would
    find nothing to mask).
    """
    import torch
    from transformers import BertConfig, BertModel, BertTokenizerFast

    tokenizer = BertTokenizerFast(vocab=str(FIXTURES / "vocab.txt"))  # transformers 5: `vocab`, not `vocab_file`
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=37,
        max_position_embeddings=128,
    )
    out = tmp_path_factory.mktemp("tiny-bert")
    torch.manual_seed(0)  # the same weights whichever tests ran before and drew from the global generator
    BertModel(config, add_pooling_layer=False).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


@pytest.fixture(scope="session")
def tiny_multitask(tiny_base_dir: Path, label_set: LabelSet):
    """Builds the multi-task model over the tiny base BERT with the default label set; seeded, so every test that
    builds one starts from the same head weights."""

    def build():
        import torch
        from transformers import AutoModel

        from models.multitask import MultiTaskModel

        torch.manual_seed(0)
        return MultiTaskModel.from_encoder(
            AutoModel.from_pretrained(tiny_base_dir),
            offenses=list(label_set.offenses),
            penalties=list(label_set.penalties),
            parties=list(label_set.parties),
        )

    return build


@pytest.fixture(scope="session")
def tiny_overrides(tiny_base_dir: Path):
    """Config overrides that train the tiny BERT on the fixture units into ``out`` (extra overrides appended)."""
    units = str(FIXTURES / "units.jsonl")

    def overrides(out: Path, *extra: str) -> list[str]:
        return [
            "--data.train", f"[{units}]", "--data.validation", f"[{units}]", "--data.real", "[]",
            "--data.max_length", "32", "--data.stride", "8", "--model.base_model", str(tiny_base_dir),
            "--training.output_dir", str(out), *extra,
        ]  # fmt: skip

    return overrides


@pytest.fixture(scope="session")
def cjk_render_js() -> str:
    """The ``cjkRendering(family)`` function (``CJK_RENDER_JS``) for a test's probe script."""
    return CJK_RENDER_JS


@pytest.fixture
def keep_screenshot() -> Callable[[Path, str], Path]:
    """Copies a screenshot to ``$PENALTY_SCREENSHOT_DIR`` (e.g. ``reports/screenshots``) when it is set, so a person
    can look at what the browser drew; returns where to look at it (the test's tmp dir otherwise)."""

    def keep(screenshot: Path, name: str) -> Path:
        target = os.environ.get("PENALTY_SCREENSHOT_DIR")
        if not target:
            return screenshot
        Path(target).mkdir(parents=True, exist_ok=True)
        return Path(shutil.copy(screenshot, Path(target) / name))

    return keep
