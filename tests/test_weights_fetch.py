"""`wsa-robot weights fetch` against a local HTTP server on 127.0.0.1 (never the internet), serving tiny files in
the real formats: an official-layout R3M checkpoint, and a Hugging Face repository (the hub's API and resolve
routes, enough for huggingface_hub) holding a tiny DINOv2 saved with save_pretrained."""

from __future__ import annotations

import hashlib
import io
import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import torch

import wsa_robot.encoders.weights as weights_mod
from wsa_robot.cli.commands import main
from wsa_robot.encoders import sources
from wsa_robot.encoders.fetch import fetch
from wsa_robot.encoders.registry import build_encoder
from wsa_robot.encoders.resnet import ResNet
from wsa_robot.core.errors import UserError

COMMIT = "0123456789abcdef0123456789abcdef01234567"


class Server:
    """Files by URL path; HEAD, GET and byte ranges (unless `ranges` is off); every request is logged."""

    def __init__(self) -> None:
        self.files: dict[str, tuple[bytes, str]] = {}   # path -> (body, content type)
        self.headers: dict[str, dict[str, str]] = {}    # extra response headers per path
        self.log: list[tuple[str, str, str | None]] = []  # (method, path, Range header)
        self.ranges = True
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _serve(self, body_too: bool) -> None:
                path = self.path.split("?", 1)[0]
                server.log.append((self.command, path, self.headers.get("Range")))
                if path not in server.files:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body, ctype = server.files[path]
                start, status = 0, 200
                rng = self.headers.get("Range")
                if rng and server.ranges and body_too:
                    start = int(rng.split("=")[1].split("-")[0])
                    status = 206
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body) - start))
                if status == 206:
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                for key, value in server.headers.get(path, {}).items():
                    self.send_header(key, value)
                self.end_headers()
                if body_too:
                    self.wfile.write(body[start:])

            def do_GET(self) -> None:
                self._serve(True)

            def do_HEAD(self) -> None:
                self._serve(False)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def requests(self, method: str = "GET") -> list[tuple[str, str, str | None]]:
        return [r for r in self.log if r[0] == method]


@pytest.fixture
def server():
    s = Server()
    yield s
    s.httpd.shutdown()
    s.httpd.server_close()


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    """No outside weights, a home of its own, online unless a test says otherwise."""
    for var in ("WSA_WEIGHTS_DIR", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "XDG_CACHE_HOME"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setattr(weights_mod, "hf_cache_dir", lambda: tmp_path / "hf_cache")
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)  # another test module may set it


# ---- R3M ------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LocalUrlSource(sources.UrlSource):
    base: str = ""

    def published(self, file: str) -> str:
        return f"{self.base}/published/{file}"

    def download_url(self, file: str) -> str:
        return f"{self.base}/{self.folder}/{file}"


def r3m_checkpoint_bytes(net: ResNet) -> bytes:
    """What R3M's training code saves: a DataParallel state dict (module.*) beside the language parts."""
    state = {f"module.convnet.{k}": v for k, v in net.state_dict().items()}
    state["module.lang_rew.0.weight"] = torch.randn(4, 8)
    buf = io.BytesIO()
    torch.save({"r3m": state}, buf)
    return buf.getvalue()


@pytest.fixture(scope="module")
def resnet18():
    torch.manual_seed(0)
    return ResNet(18).eval()


@pytest.fixture(scope="module")
def r3m_bytes(resnet18):
    return r3m_checkpoint_bytes(resnet18)


@pytest.fixture
def r3m_server(server, monkeypatch, r3m_bytes):
    server.files["/r3m_18/model.pt"] = (r3m_bytes, "application/octet-stream")
    server.files["/r3m_18/config.yaml"] = (b"agent:\n  size: 18\n", "application/octet-stream")
    src = LocalUrlSource("r3m18", "r3m_18", sources.SOURCES["r3m18"].files, base=server.url)
    monkeypatch.setitem(sources.SOURCES, "r3m18", src)
    return server


def test_r3m_fetch_records_sha256_and_the_encoder_loads(r3m_server, r3m_bytes, resnet18, tmp_path):
    files = fetch("r3m18", tmp_path / "w")
    model = tmp_path / "w" / "r3m_18" / "model.pt"
    assert files == [model, tmp_path / "w" / "r3m_18" / "config.yaml"]
    assert model.read_bytes() == r3m_bytes and not list((tmp_path / "w").rglob("*.part"))
    manifest = json.loads((tmp_path / "w" / "manifest.json").read_text())
    assert manifest["r3m_18/model.pt"]["sha256"] == hashlib.sha256(r3m_bytes).hexdigest()
    assert manifest["r3m_18/model.pt"]["source"].startswith(r3m_server.url)
    enc = build_encoder("r3m18", weights_dir=tmp_path / "w")
    x = torch.randint(0, 256, (1, 224, 224, 3), dtype=torch.uint8)
    with torch.inference_mode():
        torch.testing.assert_close(enc(x), resnet18(enc.normalize(enc.prepare(x))))
    before = len(r3m_server.log)
    fetch("r3m18", tmp_path / "w")  # already there: no request at all
    assert len(r3m_server.log) == before


@pytest.mark.parametrize("ranges", [True, False])
def test_r3m_fetch_resumes_a_partial_download(r3m_server, r3m_bytes, tmp_path, ranges):
    r3m_server.ranges = ranges  # a server that ignores Range sends it all again; the result is the same
    part = tmp_path / "w" / "r3m_18" / "model.pt.part"
    part.parent.mkdir(parents=True)
    half = len(r3m_bytes) // 2
    part.write_bytes(r3m_bytes[:half])
    fetch("r3m18", tmp_path / "w")
    assert (tmp_path / "w" / "r3m_18" / "model.pt").read_bytes() == r3m_bytes and not part.exists()
    asked = [rng for _, path, rng in r3m_server.requests() if path.endswith("model.pt")]
    assert asked == [f"bytes={half}-"]


def test_a_changed_file_fails_its_recorded_checksum(r3m_server, tmp_path):
    fetch("r3m18", tmp_path / "w")
    model = tmp_path / "w" / "r3m_18" / "model.pt"
    data = bytearray(model.read_bytes())
    data[-100] ^= 0xFF
    model.write_bytes(bytes(data))
    with pytest.raises(UserError, match="does not match the sha256 recorded.*fetch it again"):
        build_encoder("r3m18", weights_dir=tmp_path / "w")


def test_r3m_errors_name_the_url_and_the_path(r3m_server, tmp_path, monkeypatch):
    dest = tmp_path / "w" / "r3m_18" / "model.pt"
    r3m_server.files["/r3m_18/model.pt"] = (b"<html>quota exceeded</html>", "text/html; charset=utf-8")
    with pytest.raises(UserError, match=f"answered with a web page.*{dest}"):
        fetch("r3m18", tmp_path / "w")
    del r3m_server.files["/r3m_18/model.pt"]
    with pytest.raises(UserError, match=f"HTTP 404.*put it at {dest}"):
        fetch("r3m18", tmp_path / "w")
    r3m_server.log.clear()
    with pytest.raises(UserError) as err:
        fetch("r3m18", tmp_path / "w", offline=True)
    assert f"{r3m_server.url}/published/model.pt" in str(err.value) and f"put it at {dest}" in str(err.value)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(UserError, match="offline, nothing downloaded"):
        fetch("r3m18", tmp_path / "w")
    assert r3m_server.log == [] and not dest.exists()


def test_missing_weights_name_the_one_command_that_fetches_them(tmp_path, capsys, monkeypatch, server):
    empty = tmp_path / "empty"
    with pytest.raises(UserError) as err:
        build_encoder("r3m34", weights_dir=empty)
    msg = str(err.value)
    assert "\n" not in msg and f"`wsa-robot weights fetch r3m34 --dir {empty}`" in msg
    assert sources.SOURCES["r3m34"].published("model.pt") in msg and f"{empty}/r3m_34/model.pt" in msg
    # Online, a missing HF encoder is looked up on the hub: here the local server, which has no such repository
    # (transformers asks huggingface_hub, which read HF_ENDPOINT when it was imported, so its URLs are set here).
    import huggingface_hub.constants as hub

    monkeypatch.setattr(hub, "ENDPOINT", server.url)
    monkeypatch.setattr(hub, "HUGGINGFACE_CO_URL_TEMPLATE", server.url + "/{repo_id}/resolve/{revision}/{filename}")
    with pytest.raises(UserError, match=r"`wsa-robot weights fetch dinov2_b --dir .*dinov2-base/"):
        build_encoder("dinov2_b_grid", weights_dir=empty)
    assert any("facebook/dinov2-base" in path for _, path, _ in server.log)  # asked the local hub, nothing else
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(UserError, match=f"hub id facebook/dinov2-base .* in {empty}/dinov2-base/"):
        build_encoder("dinov2_b", weights_dir=empty)
    monkeypatch.delenv("HF_HUB_OFFLINE")
    code = main(["train", "encoders=r3m18", "context=r3m18@agentview", f"weights_dir={empty}"])
    err_text = capsys.readouterr().err
    assert code == 2 and f"`wsa-robot weights fetch r3m18 --dir {empty}`" in err_text


# ---- Hugging Face ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tiny_dinov2(tmp_path_factory):
    transformers = pytest.importorskip("transformers")
    folder = tmp_path_factory.mktemp("dinov2")
    torch.manual_seed(0)
    cfg = transformers.Dinov2Config(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, mlp_ratio=2,
                                    image_size=518, patch_size=14)
    transformers.Dinov2Model(cfg).save_pretrained(folder)
    (folder / "preprocessor_config.json").write_text(json.dumps({"image_mean": [0.485, 0.456, 0.406],
                                                                 "image_std": [0.229, 0.224, 0.225]}))
    (folder / "README.md").write_text("not needed by save_pretrained")
    return folder


def serve_hub_repo(server: Server, hub_id: str, folder: Path, stated_sha: dict[str, str] | None = None) -> None:
    """The hub's routes huggingface_hub uses: model info (with file metadata), then HEAD/GET per file."""
    siblings = []
    for path in sorted(folder.iterdir()):
        body = path.read_bytes()
        sha = hashlib.sha256(body).hexdigest()
        sibling = {"rfilename": path.name, "size": len(body)}
        if path.suffix == ".safetensors":
            sibling["lfs"] = {"sha256": (stated_sha or {}).get(path.name, sha), "size": len(body), "pointerSize": 134}
        siblings.append(sibling)
        route = f"/{hub_id}/resolve/{COMMIT}/{path.name}"
        server.files[route] = (body, "application/octet-stream")
        server.headers[route] = {"X-Repo-Commit": COMMIT, "ETag": f'"{sha}"'}
    info = {"id": hub_id, "sha": COMMIT, "siblings": siblings}
    server.files[f"/api/models/{hub_id}/revision/main"] = (json.dumps(info).encode(), "application/json")


def test_hub_fetch_downloads_only_the_needed_files_and_the_encoder_loads(server, tiny_dinov2, tmp_path,
                                                                         monkeypatch):
    serve_hub_repo(server, "facebook/dinov2-small", tiny_dinov2)
    monkeypatch.setenv("HF_ENDPOINT", server.url)
    files = fetch("dinov2_s", tmp_path / "w")
    dest = tmp_path / "w" / "dinov2-small"
    assert sorted(p.name for p in files) == ["config.json", "model.safetensors", "preprocessor_config.json"]
    assert all(p.parent == dest for p in files) and not (dest / "README.md").exists()
    manifest = json.loads((tmp_path / "w" / "manifest.json").read_text())
    sha = hashlib.sha256((tiny_dinov2 / "model.safetensors").read_bytes()).hexdigest()
    assert manifest["dinov2-small/model.safetensors"]["sha256"] == sha
    assert COMMIT in manifest["dinov2-small/model.safetensors"]["source"]
    assert build_encoder("dinov2_s_grid", weights_dir=tmp_path / "w").output_shape == (32, 16, 16)
    before = len(server.log)
    fetch("dinov2_s", tmp_path / "w", offline=True)  # already there: nothing to do, even offline
    assert len(server.log) == before


def test_hub_fetch_checks_the_stated_sha256(server, tiny_dinov2, tmp_path, monkeypatch):
    serve_hub_repo(server, "facebook/dinov2-small", tiny_dinov2, {"model.safetensors": "f" * 64})
    monkeypatch.setenv("HF_ENDPOINT", server.url)
    with pytest.raises(UserError, match="the hub states ffffffffffff"):
        fetch("dinov2_s", tmp_path / "w")
    assert not (tmp_path / "w" / "dinov2-small" / "model.safetensors").exists()


def test_hub_fetch_offline_or_unreachable_names_hub_id_and_folder(server, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_ENDPOINT", server.url)
    dest = tmp_path / "w" / "Depth-Anything-V2-Small-hf"
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(UserError, match=f"hub id depth-anything/Depth-Anything-V2-Small-hf .* in {dest}/"):
        fetch("depth_anything_s", tmp_path / "w")
    assert server.log == []
    monkeypatch.delenv("HF_HUB_OFFLINE")
    with pytest.raises(UserError, match=f"could not download hub id depth-anything/.*into {dest}/"):
        fetch("depth_anything_s", tmp_path / "w")  # the local server has no such repository: 404


def test_weights_list_and_unknown_names(r3m_server, tmp_path, capsys):
    fetch("r3m18", tmp_path / "w")
    assert main(["weights", "list", "--wide", "--dir", str(tmp_path / "w")]) == 0  # --wide: the path column too
    out = capsys.readouterr().out
    for name in sources.SOURCES:
        assert name in out
    row = next(line for line in out.splitlines() if "r3m18" in line)
    assert "fetched (sha256)" in row and str(tmp_path / "w" / "r3m_18" / "model.pt") in row
    assert "missing" in next(line for line in out.splitlines() if "r3m34" in line)
    assert "hub facebook/dinov2-small" in out
    assert main(["weights", "fetch", "dinov3"]) == 2
    assert "no zoo weights named 'dinov3'" in capsys.readouterr().err
