"""The HTML page of the report and the model card: one inline jinja2 template (no data file to ship).

Rendered by :func:`crmine.report._page.render_page`; the page embeds plotly.js once, inline.
"""

from __future__ import annotations

__all__ = ["TEMPLATE"]

TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>
  :root { --ink:#1f2933; --muted:#616e7c; --line:#e4e7eb; --accent:#1f77b4; --bg:#f7f9fb; }
  * { box-sizing:border-box; }
  body { margin:0; font:15px/1.5 -apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;
         color:var(--ink); background:var(--bg); }
  header { background:#102a43; color:#fff; padding:28px 40px; }
  header h1 { margin:0 0 4px; font-size:26px; font-weight:600; }
  header p { margin:0; color:#bcccdc; }
  main { max-width:1180px; margin:0 auto; padding:24px 40px 60px; }
  nav.toc { background:#fff; border:1px solid var(--line); border-radius:8px; padding:14px 22px; }
  nav.toc h2 { margin:0 0 6px; font-size:15px; text-transform:uppercase; letter-spacing:.05em; color:var(--muted); }
  nav.toc ol { margin:0; padding-left:20px; columns:2; }
  nav.toc a { color:var(--accent); text-decoration:none; }
  section { background:#fff; border:1px solid var(--line); border-radius:8px; padding:20px 26px;
            margin-top:22px; }
  section h2 { margin:0 0 4px; font-size:20px; }
  p.how { margin:0 0 14px; color:var(--muted); font-style:italic; }
  h3 { font-size:15px; margin:18px 0 6px; }
  .kpis { display:grid; grid-template-columns:repeat(auto-fit,minmax(170px,1fr)); gap:14px; }
  .kpi { border:1px solid var(--line); border-radius:8px; padding:12px 16px; background:var(--bg); }
  .kpi .v { font-size:24px; font-weight:600; }
  .kpi .l { color:var(--muted); font-size:13px; }
  table { border-collapse:collapse; width:100%; margin:8px 0 14px; font-size:13.5px; }
  th, td { padding:6px 10px; border-bottom:1px solid var(--line); text-align:left; vertical-align:top; }
  th { background:var(--bg); font-weight:600; }
  td.num, th.num { text-align:right; font-variant-numeric:tabular-nums; }
  .note { color:var(--muted); font-size:13px; }
  footer { color:var(--muted); font-size:12px; text-align:center; margin-top:30px; }
</style>
<script type="text/javascript">{{ plotlyjs }}</script>
</head>
<body>
<header>
  <h1>{{ title }}</h1>
  <p>{{ subtitle }} &middot; generated {{ generated }} &middot; crmine {{ version }}</p>
</header>
<main>
<nav class="toc"><h2>Contents</h2><ol>
{% for s in sections %}<li><a href="#{{ s.id }}">{{ s.title }}</a></li>
{% endfor %}</ol></nav>
{% for s in sections %}
<section id="{{ s.id }}">
  <h2>{{ s.title }}</h2>
  <p class="how">{{ s.how }}</p>
  {% for b in s.blocks %}
    {% if b.kind == "kpis" %}
      <div class="kpis">{% for k in b.entries %}<div class="kpi"><div class="v">{{ k.value }}</div><div class="l">{{ k.label }}</div></div>{% endfor %}</div>
    {% elif b.kind == "table" %}
      {% if b.title %}<h3>{{ b.title }}</h3>{% endif %}
      <table><thead><tr>{% for c in b.columns %}<th class="{{ 'num' if b.numeric[loop.index0] }}">{{ c }}</th>{% endfor %}</tr></thead>
      <tbody>{% for row in b.rows %}<tr>{% for v in row %}<td class="{{ 'num' if b.numeric[loop.index0] }}">{{ v }}</td>{% endfor %}</tr>{% endfor %}</tbody></table>
    {% elif b.kind == "figure" %}
      {{ b.html }}
    {% elif b.kind == "note" %}
      <p class="note">{{ b.text }}</p>
    {% endif %}
  {% endfor %}
</section>
{% endfor %}
<footer>{{ footer }}</footer>
</main>
</body>
</html>
"""
