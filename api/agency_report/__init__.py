"""The agency's report (issue 15, item 5): one agency's figures for a month or
a year against its target and the portfolio, per site and in total, as JSON
for the UI page and as a PDF in Finnish, Swedish or English.

``data.gather`` builds the report once; ``pdf.render_pdf`` and the JSON
endpoint both read what it built (docs/api.md, "Agency report").
"""
