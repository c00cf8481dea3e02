/*
 * board_page.c - GET /: the live board, one self-contained page.
 *
 * No external asset: the HTML, CSS and script are in this string.  The
 * script polls /status?full once a second and redraws: one cell per
 * worker coloured by state (with its current task and age), the slot map
 * of the board, task rates and outcome counts.
 */
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "server.h"

static const char page[] =
"<!DOCTYPE html>\n"
"<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
"<title>forkboard</title>\n"
"<style>\n"
"body{font:14px system-ui,sans-serif;margin:1.5em;background:#fafafa;color:#222}\n"
"h1{font-size:1.3em;margin:0 0 .5em}\n"
"#summary span{margin-right:1.5em}\n"
".grid{display:flex;flex-wrap:wrap;gap:6px;margin:.5em 0 1em}\n"
".w{width:160px;height:64px;border-radius:6px;padding:5px;font-size:12px;"
"box-sizing:border-box;color:#fff}\n"
".w b{display:block;font-size:13px}\n"
".idle{background:#2e7d32}.busy{background:#e65100}.starting{background:#1565c0}"
".dead{background:#616161}.exiting{background:#6a1b9a}\n"
"#slots{display:flex;flex-wrap:wrap;gap:2px;max-width:760px}\n"
".s{width:12px;height:12px;border-radius:2px;background:#ddd}\n"
".s.q{background:#fbc02d}.s.R{background:#e65100}.s.c{background:#1565c0}"
".s.r,.s.h{background:#7b1fa2}\n"
"table{border-collapse:collapse;margin-top:.5em}td,th{padding:2px 10px;"
"text-align:right;border-bottom:1px solid #ddd}th{text-align:left}\n"
"#err{color:#b71c1c}\n"
".legend .s{display:inline-block;vertical-align:middle;margin:0 4px 0 10px}\n"
"</style></head><body>\n"
"<h1>forkboard-server</h1>\n"
"<div id=\"summary\">loading&hellip;</div><div id=\"err\"></div>\n"
"<h2>Workers</h2><div id=\"workers\" class=\"grid\"></div>\n"
"<h2>Board slots</h2><div id=\"slots\"></div>\n"
"<p class=\"legend\"><span class=\"s\"></span> free <span class=\"s q\"></span> "
"queued <span class=\"s R\"></span> running <span class=\"s c\"></span> "
"complete <span class=\"s r\"></span> reserved/held</p>\n"
"<h2>Outcomes</h2><table id=\"outcomes\"></table>\n"
"<script>\n"
"'use strict';\n"
"let last=null;\n"
"function el(t,c,x){const e=document.createElement(t);if(c)e.className=c;"
"if(x!==undefined)e.textContent=x;return e;}\n"
"function draw(s){\n"
" const now=Date.now()/1000;let rate=0;\n"
" const done=Object.values(s.outcomes).reduce((a,b)=>a+b,0);\n"
" if(last)rate=(done-last.done)/Math.max(now-last.t,0.001);\n"
" last={t:now,done:done};\n"
" const sm=document.getElementById('summary');sm.textContent='';\n"
" [['up',s['start since']+' s'],['workers',s['total processes']],"
"['busy',s['active processes']],['listen queue',s['listen queue']],"
"['connections',s.connections],['tasks/s',rate.toFixed(1)],"
"['generation',s['pool generation']]].concat(s.redis?"
"[['redis',s.redis.link],['group pending',s.redis['group pending']],"
"['lag',s.redis.lag],['held',s.redis.held]]:[])"
".forEach(([k,v])=>{const x=el('span');x.textContent=k+': '+v;"
"x.dataset.k=k;sm.appendChild(x);});\n"
" const w=document.getElementById('workers');w.textContent='';\n"
" (s.workers||[]).forEach(r=>{const c=el('div','w '+r.state);"
"c.dataset.state=r.state;c.appendChild(el('b',null,'#'+r.index+' '+r.state));"
"c.appendChild(el('div',null,'pid '+r.pid+' \\u00b7 '+r.tasks+' tasks'));"
"c.appendChild(el('div',null,r['current task']?r['current task']+' '+"
"(r['current task age']*1000).toFixed(0)+' ms':'\\u00a0'));w.appendChild(c);});\n"
" const sl=document.getElementById('slots');sl.textContent='';\n"
" const map=(s.board&&s.board['slot map'])||'';\n"
" for(const ch of map){const c=el('div','s '+(ch==='.'?'f':ch));c.title=ch;"
"sl.appendChild(c);}\n"
" const t=document.getElementById('outcomes');t.textContent='';\n"
" for(const [k,v] of Object.entries(s.outcomes)){const r=el('tr');"
"r.appendChild(el('th',null,k));r.appendChild(el('td',null,String(v)));"
"t.appendChild(r);}\n"
" document.getElementById('err').textContent='';\n"
" document.body.dataset.updated=String(now);\n"
"}\n"
"async function tick(){try{const r=await fetch('/status?full',"
"{cache:'no-store'});draw(await r.json());}catch(e){"
"document.getElementById('err').textContent='status: '+e;}"
"setTimeout(tick,1000);}\n"
"tick();\n"
"</script></body></html>\n";

void
board_page(struct evhttp_request *req)
{
	struct evbuffer *b = evbuffer_new();

	if (b == NULL) {
		http_error(req, 500, "Internal Server Error", "out of memory");
		return;
	}
	evbuffer_add_reference(b, page, sizeof(page) - 1, NULL, NULL);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "text/html; charset=utf-8");
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Security-Policy", "default-src 'self'; "
	    "script-src 'unsafe-inline'; style-src 'unsafe-inline'");
	http_reply(req, 200, "OK", b);
	evbuffer_free(b);
}
