"""Run eark-validator 1.1.3 on one E-ARK SIP folder and print its findings as JSON (run with .venv-eark's
Python: tools/ensure-eark-validator.sh). The validator reads four CSIP vocabularies from the web when it is
imported; they ship inside the package too, so a urllib handler serves those copies (no network here)."""

from __future__ import annotations

import gc
import io
import json
import sys
import urllib.request
import urllib.response
import warnings
from pathlib import Path


def main(package: str) -> None:
    import eark_validator.ipxml.resources.vocabs as vocabs

    class Offline(urllib.request.BaseHandler):
        handler_order = 100

        def https_open(self, req: urllib.request.Request) -> urllib.response.addinfourl:
            data = (Path(vocabs.__file__).parent / req.full_url.rsplit("/", 1)[-1]).read_bytes()
            response = urllib.response.addinfourl(io.BytesIO(data), {}, req.full_url, 200)  # type: ignore[arg-type]
            response.msg = "OK"
            return response

    urllib.request.install_opener(urllib.request.build_opener(Offline()))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from eark_validator.model.validation_report import Severity
        from eark_validator.packages import PackageValidator
        report = PackageValidator(Path(package)).validation_report
        gc.collect()
    print(json.dumps({
        "structure": str(report.structure.status.value if hasattr(report.structure.status, "value")
                         else report.structure.status),
        "schema": str(report.metadata.schema_results.status.value
                      if hasattr(report.metadata.schema_results.status, "value")
                      else report.metadata.schema_results.status),
        "schema_messages": [str(m) for m in report.metadata.schema_results.messages],
        "errors": sorted({m.rule_id for m in report.metadata.schematron_results.messages
                          if m.severity == Severity.ERROR}),
    }))


if __name__ == "__main__":
    main(sys.argv[1])
