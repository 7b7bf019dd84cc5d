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
