"""`harden audit`: evidence of the live system against the baseline, keyed by ISO/IEC 27001:2022 Annex A.

Data flows one way: collectors (containers, TLS endpoints, the Pulumi stack, hosts, the policy gate)
produce `Evidence`; `report.build` rolls it up per control; the writers turn one redacted report into
JSON, HTML, Markdown, JUnit and the audit artifacts, and `integrity` seals them.
"""
