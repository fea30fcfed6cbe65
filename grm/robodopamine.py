"""The official Robo-Dopamine GRM (a Qwen2.5-VL model) as a reward model backend.

It answers one hop per prompt: the task, a REFERENCE START and END (front view only), then the
BEFORE and AFTER three-view sets (front, left wrist, right wrist), eight images in that order,
with the prompt text its authors trained it on (`PROMPT`), replying `<score>+NN%</score>`. The
tracker (grm/inference.py) makes the three perspectives and fuses them, as for our own GRM.

- Loaded from a local directory (`from_pretrained`, no download), in bfloat16 on a GPU when
  there is one, float32 on CPU. Images are resized by its image processor within the official
  pixel budget (MIN_PIXELS..MAX_PIXELS). Each `<|image_pad|>` of the chat template becomes one
  token per merged patch, as Qwen2.5-VL's processor does; its video half, which needs
  torchvision, is never loaded.
- Greedy decoding: a reward must not change between two calls on the same frames (the
  official script samples at temperature 0.1).
- A reply without a readable score counts as no change (hop 0) and is counted:
  `unparsed` / `replies`, which grm-eval writes into metrics.json. It is never silently zero.
- Views: the model's three slots take the cameras `views` names (`map_views`). A slot without a
  camera repeats the front view, as the official code does for goal images it lacks.
- Frames of any size (a dataset's 64 px, a robot's 640x480 camera) are resized to one square
  `image_size` on the way in (224 px: within the official pixel budget), so a live frame and a
  demo's reference can be compared in one prompt.
"""
from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Mapping, Optional

import numpy as np
import torch

from grm.inference import reference_frames
from grm.view_slots import map_views

log = logging.getLogger("grm")

SLOTS = ("front", "left_wrist", "right_wrist")
IMAGE_TOKEN = "<|image_pad|>"  # Qwen2.5-VL's image place in the chat template
MIN_PIXELS, MAX_PIXELS = 12544, 76800  # the official inference code's image budget
PROMPT = """
You are a rigorous, impartial vision evaluator for robot task progress. Your job is to judge whether the AFTER image set moves closer to the task objective than the BEFORE image set, using the provided reference examples only as anchors.

<Task>
`{task}`

REFERENCE EXAMPLES (for visual anchoring only; not necessarily this run's actual START/END):
- REFERENCE START — Robot Front Image (task just starting): <image>
- REFERENCE END — Robot Front Image (task fully completed): <image>
</Task>

BEFORE Robot Front Image: <image>
BEFORE Robot Left Wrist Image: <image>
BEFORE Robot Right Wrist Image: <image>

AFTER Robot Front Image: <image>
AFTER Robot Left Wrist Image: <image>
AFTER Robot Right Wrist Image: <image>

Goal
Compare the BEFORE and AFTER three-view sets and judge whether AFTER moves closer to accomplishing the task than BEFORE, using the REFERENCE START/END images as conceptual anchors.

Progress Estimation (no formulas)
1) Calibrate using the references:
   - REFERENCE START = “just beginning”; REFERENCE END = “fully completed.”
   - Visually estimate how far BEFORE and AFTER are along this START→END continuum.
2) Direction:
   - AFTER better than BEFORE → positive score.
   - AFTER worse than BEFORE → negative score.
   - Essentially the same → 0.
3) Normalize to an integer percentage in [-100%, +100%]:
   - For improvements, scale the improvement relative to what remained from BEFORE to END.
   - For regressions, scale the deterioration relative to how far BEFORE had progressed from START.
   - Clip to [-100%, +100%] and round to the nearest integer percent.

Evaluation Criteria (apply across all three views)
1) Task Alignment: Evidence directly tied to `{task}`.
2) Completeness & Accuracy: Correct pose, contact, placement, orientation, grasp quality, absence of collisions, stability, etc.
3) View-Specific Evidence & Consistency:
   - Use the **Front** view for global layout, object pose, approach path, end-state geometry, and scene-level constraints.
   - Use the **Left/Right Wrist** views to inspect **fine-grained gripper state** (finger closure, contact location/area, slippage, wedge/misalignment, object deformation, cable/wire/cloth entanglement, unintended contact, occluded collisions).
   - When views disagree, prioritize the view that provides **decisive cues** for the criterion at hand. In particular, wrist views often **override** for grasp/contact validity and safety.
   - If any single view shows a failure that invalidates success (e.g., mis-grasp, collision, unsafe/unstable pose), let that override when judging progress.
4) Ignore Irrelevant Factors: Lighting, color shifts, background clutter, or UI/watermarks that don't affect task success.
5) Ambiguity: If evidence is genuinely inconclusive or conflicting without decisive cues, treat progress as unchanged → 0%.

Output Format (STRICT)
Return ONLY one line containing the score wrapped in <score> tags, as an integer percentage with a percent sign:
<score>+NN%</score>  or  <score>-NN%</score>  or  <score>0%</score>
"""
_SCORE = re.compile(r"<score>\s*([+-]?\d+(?:\.\d+)?)\s*%?\s*</score>")


def parse_score(reply: str) -> float | None:
    """The hop a reply states (its last `<score>` tag), clipped to [-1, 1]; None when it states none."""
    found = _SCORE.findall(reply)
    return None if not found else float(np.clip(float(found[-1]) / 100.0, -1.0, 1.0))


def messages(instruction: str) -> list[dict]:
    """One user turn: the prompt's text around its eight `<image>` places, in order."""
    parts = PROMPT.format(task=instruction).split("<image>")
    content: list[dict] = []
    for i, text in enumerate(parts):
        content.append({"type": "text", "text": text})
        if i < len(parts) - 1:
            content.append({"type": "image"})
    return [{"role": "user", "content": content}]


def prompt_images(ref_start: np.ndarray, ref_end: np.ndarray, before: np.ndarray, after: np.ndarray) -> list[np.ndarray]:
    """The eight images in the prompt's order: reference start and end (front views), then the
    before and the after views (front, left wrist, right wrist). before/after: (3, H, W, 3)."""
    return [ref_start, ref_end, *before, *after]


class RoboDopamineGRM:
    """The official GRM behind the reward model interface (grm/inference.py RewardBackend)."""

    def __init__(self, model, tokenizer, image_processor, cameras: list[Optional[str]], device: torch.device,
                 batch_size: int = 8, max_new_tokens: int = 16, image_size: int = 224):
        """`cameras`: the camera feeding each slot of SLOTS (None: the front view stands in)."""
        self.image_size = int(image_size)
        self.model, self.tokenizer, self.image_processor, self.device = model.eval(), tokenizer, image_processor, device
        self.tokenizer.padding_side = "left"  # batched generation continues every prompt at its end
        self.cameras = list(cameras)
        if self.cameras[0] is None:
            raise ValueError(f"the robodopamine model needs a front camera; views map its slots {list(SLOTS)}")
        self.inputs = list(dict.fromkeys(c for c in self.cameras if c is not None))
        self._slot_input = [self.inputs.index(c if c is not None else self.cameras[0]) for c in self.cameras]
        self.batch_size, self.max_new_tokens = int(batch_size), int(max_new_tokens)
        self._refs: torch.Tensor | None = None  # START and END, encoded: (2, 3, S, S, 3)
        self._prompt = ""  # the chat text for this task's instruction, made once per reference
        self.replies = 0
        self.unparsed = 0

    @classmethod
    def load(cls, path: str | Path, available: list[str] | None = None, views: Mapping[str, Optional[str]] | None = None,
             batch_size: int = 8, device: str | None = None, image_size: int = 224) -> "RoboDopamineGRM":
        """The model in directory `path`; `available`: the data's cameras, laid onto SLOTS by `views`."""
        from transformers import AutoImageProcessor, AutoTokenizer, Qwen2_5_VLForConditionalGeneration

        path = Path(path)
        if not (path / "config.json").is_file():
            raise FileNotFoundError(f"{path} holds no model (no config.json): reward_model.path is the directory "
                                    f"of the official weights (e.g. Robo-Dopamine-GRM-3B)")
        dev = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        dtype = torch.bfloat16 if dev.type == "cuda" else torch.float32
        model = Qwen2_5_VLForConditionalGeneration.from_pretrained(path, dtype=dtype).to(dev)
        tokenizer = AutoTokenizer.from_pretrained(path)
        if not tokenizer.chat_template:  # some releases keep the template beside the tokenizer
            for name in ("chat_template.jinja", "chat_template.json"):
                if (path / name).is_file():
                    text = (path / name).read_text()
                    tokenizer.chat_template = json.loads(text)["chat_template"] if name.endswith(".json") else text
                    break
            else:
                raise FileNotFoundError(f"{path} has no chat template (tokenizer_config.json, chat_template.jinja/json)")
        image_processor = AutoImageProcessor.from_pretrained(path, min_pixels=MIN_PIXELS, max_pixels=MAX_PIXELS)
        cameras = map_views(SLOTS, available, views) if available is not None else [
            (views or {}).get(s, s) for s in SLOTS]
        return cls(model, tokenizer, image_processor, cameras, dev, batch_size, image_size=image_size)

    # -- the interface ---------------------------------------------------------------
    def encode(self, views: np.ndarray) -> torch.Tensor:
        """(B, len(inputs), H, W, 3) -> (B, 3, S, S, 3) uint8, S = image_size: the frames in slot order
        (what it compares)."""
        views = np.asarray(views)
        if views.ndim != 5 or views.shape[1] != len(self.inputs):
            raise ValueError(f"expected views of shape (B, {len(self.inputs)}, H, W, 3) for cameras {self.inputs}, "
                             f"got {views.shape}")
        S = self.image_size
        if views.shape[2:4] != (S, S):
            import cv2

            shrink = views.shape[2] * views.shape[3] > S * S
            how = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
            views = np.stack([[cv2.resize(v, (S, S), interpolation=how) for v in obs] for obs in views])
        return torch.from_numpy(np.ascontiguousarray(views[:, self._slot_input]))

    def set_reference(self, start_views: np.ndarray, goal_views: np.ndarray, instruction: str = "") -> None:
        self._refs = self.encode(np.stack([start_views, goal_views]))
        self._prompt = self.tokenizer.apply_chat_template(messages(instruction), tokenize=False,
                                                          add_generation_prompt=True)

    def set_reference_from_episode(self, path: str | Path) -> None:
        self.set_reference(*reference_frames(path, self.inputs, "reward_model.views"))

    @property
    def z_goal(self) -> torch.Tensor:
        if self._refs is None:
            raise RuntimeError("call set_reference(start_views, goal_views, instruction) first")
        return self._refs[1:2]

    @torch.no_grad()
    def hop(self, z_before: torch.Tensor, z_after: torch.Tensor) -> torch.Tensor:
        ref_end = self.z_goal[0, 0].numpy()  # the references are front views
        ref_start = self._refs[0, 0].numpy()
        out = []
        for i in range(0, len(z_before), self.batch_size):
            before, after = z_before[i:i + self.batch_size].numpy(), z_after[i:i + self.batch_size].numpy()
            images = [prompt_images(ref_start, ref_end, b, a) for b, a in zip(before, after)]
            out += [self._score(r) for r in self._generate([self._prompt] * len(images), images)]
        return torch.tensor(out, dtype=torch.float32)

    # -- generation ------------------------------------------------------------------
    def inputs_for(self, texts: list[str], images: list[list[np.ndarray]]) -> dict:
        """Token ids and pixels of a batch of prompts: every image place expanded to its patch tokens."""
        vision = self.image_processor(images=[im for ims in images for im in ims], return_tensors="pt")
        merge = self.image_processor.merge_size ** 2
        counts = iter((vision["image_grid_thw"].prod(-1) // merge).tolist())
        expanded = []
        for text in texts:
            first, *rest = text.split(IMAGE_TOKEN)
            expanded.append(first + "".join(IMAGE_TOKEN * next(counts) + part for part in rest))
        return {**self.tokenizer(expanded, return_tensors="pt", padding=True), **vision}

    def _generate(self, texts: list[str], images: list[list[np.ndarray]]) -> list[str]:
        batch = {k: v.to(self.device) for k, v in self.inputs_for(texts, images).items()}
        ids = self.model.generate(**batch, do_sample=False, max_new_tokens=self.max_new_tokens)
        return self.tokenizer.batch_decode(ids[:, batch["input_ids"].shape[1]:], skip_special_tokens=True)

    def _score(self, reply: str) -> float:
        self.replies += 1
        hop = parse_score(reply)
        if hop is None:
            self.unparsed += 1
            log.warning("robodopamine reply without a score (%d of %d so far), counted as no change: %r",
                        self.unparsed, self.replies, reply[:80])
            return 0.0
        return hop
