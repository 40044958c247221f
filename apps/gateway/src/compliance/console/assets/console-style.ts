/** Plain, legible, high-contrast; visible focus for keyboard users. */
export const CONSOLE_STYLE = `
[hidden] { display: none !important; }
:root { font-family: system-ui, sans-serif; color: #111; background: #f6f7f9; line-height: 1.4; }
body { margin: 0 auto; max-width: 80rem; padding: 1rem 1.5rem 3rem; }
header { display: flex; flex-wrap: wrap; align-items: baseline; gap: 0 1rem; border-bottom: 2px solid #0b4f71; }
h1 { margin: .5rem 0; font-size: 1.5rem; color: #0b4f71; }
.sub { flex: 1; margin: 0; color: #444; }
#who { font-size: .9rem; } .roles { color: #0a6b2d; font-weight: 600; margin-right: .5rem; }
h2 { font-size: 1.2rem; margin: 1.25rem 0 .5rem; } h3 { font-size: 1rem; margin: 1rem 0 .4rem; }
nav#tabs { display: flex; gap: .25rem; margin-top: .75rem; border-bottom: 1px solid #ccd; }
nav#tabs a { padding: .45rem .9rem; color: #0b4f71; text-decoration: none; border: 1px solid transparent; border-bottom: 0; border-radius: 4px 4px 0 0; }
nav#tabs a[aria-current=page] { background: #fff; border-color: #ccd; font-weight: 600; }
label { display: flex; flex-direction: column; gap: .2rem; font-weight: 600; font-size: .9rem; }
input, select, textarea { font: inherit; font-weight: 400; padding: .35rem .45rem; border: 1px solid #666; border-radius: 3px; }
textarea { width: 100%; box-sizing: border-box; font-family: ui-monospace, monospace; font-size: .8rem; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(14rem, 1fr)); gap: .75rem; }
form.inline { display: flex; flex-wrap: wrap; gap: .75rem; align-items: flex-end; }
.actions { margin: .75rem 0; display: flex; gap: .5rem; flex-wrap: wrap; }
button, a.button { font: inherit; padding: .4rem .9rem; border: 1px solid #0b4f71; background: #0b4f71; color: #fff; border-radius: 3px; cursor: pointer; text-decoration: none; display: inline-block; }
button[type=button] { background: #fff; color: #0b4f71; margin: 0 .2rem .2rem 0; }
:focus-visible { outline: 3px solid #e3a008; outline-offset: 2px; }
.kpis { display: grid; grid-template-columns: repeat(auto-fill, minmax(10rem, 1fr)); gap: .75rem; margin: 1rem 0; }
.kpi { background: #fff; border: 1px solid #dde; border-radius: 6px; padding: .6rem .8rem; display: flex; flex-direction: column; }
.kpi-value { font-size: 1.6rem; font-weight: 700; color: #0b4f71; } .kpi-label { color: #555; font-size: .85rem; }
.panels { display: grid; grid-template-columns: repeat(auto-fill, minmax(24rem, 1fr)); gap: 1rem; }
figure.panel { margin: 0; background: #fff; border: 1px solid #dde; border-radius: 6px; padding: .75rem; }
figcaption { font-weight: 700; margin-bottom: .5rem; } .chart { position: relative; height: 12rem; }
a.csv { display: inline-block; margin-top: .4rem; font-size: .85rem; }
table { width: 100%; border-collapse: collapse; font-size: .85rem; background: #fff; margin: .25rem 0; }
caption { text-align: left; font-weight: 600; padding: .25rem 0; }
th, td { text-align: left; padding: .3rem .4rem; border-bottom: 1px solid #e4e4e8; vertical-align: top; word-break: break-word; }
td.outcome-refused, td.outcome-failure { color: #a00; font-weight: 600; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; background: #fff; padding: .5rem; }
dt { font-weight: 600; } dd { margin: 0; word-break: break-all; font-family: ui-monospace, monospace; font-size: .85rem; }
pre { background: #fff; border: 1px solid #dde; padding: .75rem; overflow: auto; max-height: 24rem; font-size: .8rem; }
section.explain { margin-bottom: .5rem; }
#status { min-height: 1.4em; font-weight: 600; }
.error { color: #a00; } .ok { color: #0a6b2d; }
.hint { color: #555; font-size: .85rem; margin: .25rem 0 .5rem; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
`;
