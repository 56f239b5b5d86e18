"""Where every zoo encoder's weights officially come from: the one table that fetch, `wsa-robot weights list`,
the missing-weights messages, the catalogue and the README read.

R3M: the Google Drive files its authors' loader downloads (facebookresearch/r3m, r3m/__init__.py, `load_r3m`),
into the same layout that loader uses (`r3m_<depth>/model.pt` and `config.yaml`). The others: the Hugging Face
hub repositories their authors publish. No official sha256 is published for any of them, so `fetch` records
the sha256 of what it downloaded in the weights folder's manifest.json and loading checks it.
"""

from __future__ import annotations

from dataclasses import dataclass

R3M_REPO = "https://github.com/facebookresearch/r3m/blob/main/r3m/__init__.py"


def drive_url(file_id: str) -> str:
    """The address the R3M authors publish (`gdown.download` of it)."""
    return f"https://drive.google.com/uc?id={file_id}"


def drive_download_url(file_id: str) -> str:
    """The same file's direct download (Drive's confirm=t skips the virus-scan page of files over 100 MB)."""
    return f"https://drive.usercontent.google.com/download?id={file_id}&export=download&confirm=t"


@dataclass(frozen=True)
class UrlSource:
    """Plain files at fixed URLs, saved as `<weights folder>/<folder>/<file>`."""
    name: str
    folder: str
    files: tuple[tuple[str, str], ...]   # (file name, Google Drive id) in download order
    page: str = R3M_REPO
    kind: str = "url"

    def published(self, file: str) -> str:
        return drive_url(dict(self.files)[file])

    def download_url(self, file: str) -> str:
        return drive_download_url(dict(self.files)[file])

    @property
    def label(self) -> str:
        return f"{self.published(self.files[0][0])} (model.pt; config.yaml beside it)"


@dataclass(frozen=True)
class HubSource:
    """A Hugging Face hub repository, saved as `<weights folder>/<last part of the id>/` (a save_pretrained
    layout: config.json, the weights, preprocessor_config.json)."""
    name: str
    hub_id: str
    revision: str = "main"
    kind: str = "hub"

    @property
    def folder(self) -> str:
        return self.hub_id.rsplit("/", 1)[-1]

    @property
    def label(self) -> str:
        return f"hub {self.hub_id}"


Source = UrlSource | HubSource

# ids copied from facebookresearch/r3m r3m/__init__.py (load_r3m: resnet18, resnet34, resnet50)
SOURCES: dict[str, Source] = {s.name: s for s in (
    UrlSource("r3m18", "r3m_18", (("model.pt", "1A1ic-p4KtYlKXdXHcV2QV0cUzI4kn0u-"),
                                  ("config.yaml", "1nitbHQ-GRorxc7vMUiEHjHWP5N11Jvc6"))),
    UrlSource("r3m34", "r3m_34", (("model.pt", "15bXD3QRhspIRacOKyWPw5y2HpoWUCEnE"),
                                  ("config.yaml", "1RY0NS-Tl4G7M1Ik_lOym0b5VIBxX9dqW"))),
    UrlSource("r3m50", "r3m_50", (("model.pt", "1Xu0ssuG0N1zjZS54wmWzJ7-nb0-7XzbA"),
                                  ("config.yaml", "10jY2VxrrhfOdNPmsFdES568hjjIoBJx8"))),
    HubSource("dino_s16", "facebook/dino-vits16"),
    HubSource("dino_b16", "facebook/dino-vitb16"),
    HubSource("dinov2_s", "facebook/dinov2-small"),
    HubSource("dinov2_b", "facebook/dinov2-base"),
    HubSource("depth_anything_s", "depth-anything/Depth-Anything-V2-Small-hf"),
    HubSource("dpt_hybrid", "Intel/dpt-hybrid-midas"),
)}

# which of a hub repository's files a save_pretrained folder needs; the first weights format present is taken
HUB_CONFIG_FILES = ("config.json", "preprocessor_config.json")
HUB_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")


def source_for(encoder: str) -> Source | None:
    """The weights an encoder name reads: `dinov2_s_grid` and `dinov2_s_mean` share `dinov2_s`'s."""
    if encoder in SOURCES:
        return SOURCES[encoder]
    for suffix in ("_mean", "_grid", "518"):
        if encoder.endswith(suffix) and encoder[: -len(suffix)] in SOURCES:
            return SOURCES[encoder[: -len(suffix)]]
    return None
