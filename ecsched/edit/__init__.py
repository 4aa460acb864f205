"""In-place edits of config files, by node-position splicing (`splice`): every byte the edit does not
concern stays as it was. `pause` sets `disabled:` (disable/enable), `backend` sets `backend:` (migrate),
and `jsonnet` says what to change by hand in Jsonnet, which is computed and never rewritten."""

from ecsched.edit.backend import set_backend
from ecsched.edit.document import kind_of, mask
from ecsched.edit.jsonnet import NotRewritten
from ecsched.edit.pause import Resolver, reason_comment, set_disabled
from ecsched.edit.splice import FileEdit, RuleEdit

__all__ = ["FileEdit", "NotRewritten", "Resolver", "RuleEdit", "kind_of", "mask", "reason_comment", "set_backend",
           "set_disabled"]
