/** Plain, legible, high-contrast; visible focus for keyboard users. */
export const CONSOLE_STYLE = `
:root { font-family: system-ui, sans-serif; color: #111; background: #fff; line-height: 1.4; }
body { margin: 0 auto; max-width: 72rem; padding: 1rem 1.5rem 3rem; }
header { display: flex; flex-wrap: wrap; align-items: baseline; gap: 0 1rem; border-bottom: 2px solid #0b4f71; }
h1 { margin: .5rem 0; font-size: 1.5rem; color: #0b4f71; }
.sub { flex: 1; margin: 0; color: #444; }
h2 { font-size: 1.15rem; margin: 1.5rem 0 .5rem; }
label { display: flex; flex-direction: column; gap: .2rem; font-weight: 600; font-size: .9rem; }
input, select, textarea { font: inherit; font-weight: 400; padding: .35rem .45rem; border: 1px solid #666; border-radius: 3px; }
textarea { width: 100%; box-sizing: border-box; font-family: ui-monospace, monospace; font-size: .8rem; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(14rem, 1fr)); gap: .75rem; }
.actions { margin: .75rem 0; display: flex; gap: .5rem; flex-wrap: wrap; }
button { font: inherit; padding: .4rem .9rem; border: 1px solid #0b4f71; background: #0b4f71; color: #fff; border-radius: 3px; cursor: pointer; }
button[type=button] { background: #fff; color: #0b4f71; }
:focus-visible { outline: 3px solid #e3a008; outline-offset: 2px; }
table { width: 100%; border-collapse: collapse; font-size: .9rem; }
caption { text-align: left; font-weight: 600; padding: .25rem 0; }
th, td { text-align: left; padding: .3rem .4rem; border-bottom: 1px solid #ddd; vertical-align: top; }
td.outcome-refused, td.outcome-failure { color: #a00; font-weight: 600; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; }
dt { font-weight: 600; } dd { margin: 0; word-break: break-all; font-family: ui-monospace, monospace; font-size: .85rem; }
pre { background: #f5f5f5; padding: .75rem; overflow: auto; max-height: 30rem; font-size: .8rem; }
#status { min-height: 1.4em; font-weight: 600; }
.error { color: #a00; } .ok { color: #0a6b2d; }
.hint { color: #555; font-size: .85rem; margin: .25rem 0 .5rem; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
`;
