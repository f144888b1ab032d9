"""Loop tests reuse the Label Studio fixtures of the labeling tests and the tiny models
of the training and serving tests."""

from tests.labeling.conftest import (  # noqa: F401 - fixtures re-exported for loop tests
    _no_webhooks_unless_asked,
    label_studio_server,
    linked,
    ls_client,
)
from tests.serving.conftest import tiny_bert_adapter  # noqa: F401
from tests.training.conftest import _training_dirs, spam_project, tiny_bert, tiny_llama  # noqa: F401
