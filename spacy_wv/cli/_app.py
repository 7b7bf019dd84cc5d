import typer

app = typer.Typer(
    name="spacy_wv",
    help="Pretrain Transformer encoders on your own text and use them as word vectors in spaCy.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
vectors_app = typer.Typer(help="Static word vectors: export from an encoder, evaluate.", no_args_is_help=True)
app.add_typer(vectors_app, name="vectors")

# Lets commands take spaCy-style config overrides (--section.key value) as extra args.
OVERRIDES_SETTINGS = {"allow_extra_args": True, "ignore_unknown_options": True}
# What the commands that read raw text (tokenizer, encode) take as inputs.
INPUTS_HELP = ("Text files or folders: .txt (blank-line separated documents), .jsonl with a 'text' (or 'sentence') field, "
               "optionally .gz. Named files may also be .spacy (each doc's text, no labels) or .json (JSON lines, e.g. TNEWS).")
