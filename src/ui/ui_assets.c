/* The pages' style and script, inlined into every page so that an
 * exported page is one self-contained file. The script sorts and filters
 * the runs table and, on the live server, swaps in the fresh #live part
 * of the page every few seconds (rows of new runs, curves of a running
 * one); it never writes anything. */
#include "ui_pages.h"

const char ui_css[] =
    "body{font-family:system-ui,sans-serif;margin:1.5em;color:#111;background:#fff}"
    "h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em}"
    "table{border-collapse:collapse;font-size:.9em}"
    "th,td{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top;white-space:nowrap}"
    "td.tags{white-space:normal;max-width:16em}"
    "th{background:#eee;cursor:pointer;user-select:none}td.n{text-align:right;font-variant-numeric:tabular-nums}"
    "tr:nth-child(even) td{background:#f7f7f7}"
    ".status-running{color:#0050a0;font-weight:bold}.status-failed{color:#a00000;font-weight:bold}"
    ".status-interrupted{color:#805000}.muted{color:#666}"
    "#filter{margin:.5em 0;padding:.3em;width:24em}"
    ".tag{display:inline-block;white-space:nowrap;background:#e8eef6;border-radius:3px;padding:0 .3em;margin:0 .2em .1em 0}"
    ".picture svg,.picture img{max-width:100%;height:auto;border:1px solid #ddd}"
    "pre.notes{white-space:pre-wrap;background:#f7f7f7;padding:.5em}";

const char ui_js[] =
    "(function(){\n"
    "var sortCol=-1,sortDir=1,timer=null;\n"
    "function val(td){var v=td.getAttribute('data-v');if(v===null)v=td.textContent;"
    "var n=Number(v);return v!==''&&isFinite(n)?n:v.toLowerCase();}\n"
    "function sort(t){if(sortCol<0)return;var b=t.tBodies[0],rows=Array.prototype.slice.call(b.rows);"
    "rows.sort(function(p,q){var x=val(p.cells[sortCol]),y=val(q.cells[sortCol]);"
    "if(typeof x!==typeof y){x=String(x);y=String(y);}return(x<y?-1:x>y?1:0)*sortDir;});"
    "rows.forEach(function(r){b.appendChild(r);});}\n"
    "function filter(t){var f=document.getElementById('filter');if(!f)return;var q=f.value.toLowerCase();"
    "Array.prototype.forEach.call(t.tBodies[0].rows,function(r){"
    "r.style.display=r.textContent.toLowerCase().indexOf(q)>=0?'':'none';});}\n"
    "function refresh(){fetch(location.href,{cache:'no-store'}).then(function(r){"
    "if(!r.ok)throw new Error(r.status);return r.text();}).then(function(html){"
    "var doc=new DOMParser().parseFromString(html,'text/html');"
    "var fresh=doc.getElementById('live'),cur=document.getElementById('live');"
    "if(fresh&&cur){cur.parentNode.replaceChild(document.importNode(fresh,true),cur);"
    "var t=document.getElementById('runs');if(t){sort(t);filter(t);}}"
    "if(doc.body.getAttribute('data-live')!=='1'&&timer){clearInterval(timer);timer=null;}"
    "}).catch(function(){});}\n"
    "document.addEventListener('DOMContentLoaded',function(){"
    "var t=document.getElementById('runs');"
    "if(t){Array.prototype.forEach.call(t.tHead.rows[0].cells,function(th,i){"
    "th.addEventListener('click',function(){sortDir=sortCol===i?-sortDir:1;sortCol=i;sort(t);});});"
    "var f=document.getElementById('filter');if(f)f.addEventListener('input',function(){filter(t);});}"
    "if(document.body.getAttribute('data-live')==='1')timer=setInterval(refresh,3000);});\n"
    "})();\n";
