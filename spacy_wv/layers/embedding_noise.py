"""Random perturbation of a Hugging Face model's input embeddings, in training only.

Random noise rather than adversarial (FGM): FGM needs the loss gradient w.r.t. the
embeddings and then a second forward/backward pass, but in spaCy's update loop the
transformer's backward pass is triggered by the last listening component, after every
component has computed its loss, so there is no point at which a second pass fits.
"""
import torch

HOOK_ATTR = "_spacy_wv_embedding_noise"


def install_embedding_noise(transformer: torch.nn.Module, scale: float) -> None:
    """Idempotent: a model loaded from disk gets its hook on first training use."""
    embeddings = transformer.get_input_embeddings()
    if getattr(embeddings, HOOK_ATTR, None) == scale:
        return
    handle = getattr(embeddings, HOOK_ATTR + "_handle", None)
    if handle is not None:
        handle.remove()

    def add_noise(module: torch.nn.Module, inputs, output: torch.Tensor) -> torch.Tensor:
        if not module.training:
            return output
        noise = torch.randn_like(output)
        noise = noise * (scale * output.norm(dim=-1, keepdim=True) / noise.norm(dim=-1, keepdim=True).clamp_min(1e-12))
        return output + noise.detach()

    setattr(embeddings, HOOK_ATTR + "_handle", embeddings.register_forward_hook(add_noise))
    setattr(embeddings, HOOK_ATTR, scale)
