"""The page's inline CSS and JavaScript: a rendered page needs no network to open.

The script draws each block's relation arcs as SVG paths from the head entity to the
tail (redrawn on resize, since wrapping moves the entities), and wires the label filters.
It reads only what the markup carries (`data-rels` on each block, `data-label` on
entities), so the page without the script still shows entities, badges and the tables.
"""

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d1d1f;
background:#f7f7f8}
header.page{position:sticky;top:0;z-index:5;background:#fff;border-bottom:1px solid #ddd;
padding:.6em 1.2em}
header.page h1{font-size:1.15em;margin:0 0 .3em 0}
.filters label{margin-right:.8em;font-size:.85em;white-space:nowrap;cursor:pointer}
.filters .swatch{display:inline-block;width:.8em;height:.8em;border-radius:2px;
vertical-align:middle;margin-right:.25em}
main{padding:0 1.2em 2em 1.2em;max-width:70em}
article.note{background:#fff;border:1px solid #e2e2e2;border-radius:6px;margin:1em 0;
padding:.2em 1em 1em 1em}
article.note h2{font-size:1em;margin:.6em 0}
.summary{font-size:.85em;color:#555}
.cats{margin:.4em 0}
.cat{display:inline-block;border:1px solid #ccc;border-radius:3px;margin:0 .4em .3em 0;
font-size:.8em;padding:.1em .4em;position:relative;overflow:hidden;min-width:7em}
.cat .bar{position:absolute;left:0;top:0;bottom:0;background:#cfe3ff;z-index:0}
.cat span{position:relative;z-index:1}
h3.section{font-size:.8em;text-transform:uppercase;letter-spacing:.05em;color:#6a4c93;
margin:1em 0 0 0;border-bottom:1px solid #eee}
.block{position:relative;margin:.2em 0}
.block svg.arcs{position:absolute;left:0;top:0;pointer-events:none;overflow:visible}
.block .entities{line-height:3.1!important;white-space:normal}
mark.ent{padding:.2em .3em;margin:0 .1em;border-radius:.3em;line-height:1;
box-decoration-break:clone;-webkit-box-decoration-break:clone}
mark.ent.phi{background:repeating-linear-gradient(45deg,#eee,#eee 4px,#ddd 4px,#ddd 8px)!important;
outline:1px dashed #777}
mark.ent .ent-label{font-size:.62em;font-weight:700;text-transform:uppercase;margin-left:.4em;
vertical-align:middle}
mark.ent.off{background:transparent!important}
mark.ent.off .ent-label,mark.ent.off .badge{display:none}
.badge{font-size:.6em;font-weight:600;border-radius:.6em;padding:.05em .45em;margin-left:.3em;
vertical-align:middle;color:#fff;background:#555}
.badge.negated{background:#c0392b}.badge.uncertain{background:#d68910}
.badge.historical{background:#5d6d7e}.badge.hypothetical{background:#7d3c98}
.badge.family{background:#1e8449}
path.arc{fill:none;stroke:#444;stroke-width:1.3}
text.arc-label{font-size:10px;fill:#222;paint-order:stroke;stroke:#fff;stroke-width:3px}
table{border-collapse:collapse;font-size:.85em;margin:.6em 0}
th,td{border-bottom:1px solid #eee;padding:.2em .6em;text-align:left;vertical-align:top}
th{background:#fafafa}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.muted{color:#777;font-size:.85em}
section.attribution{padding:.2em .6em;border-top:1px solid #eee}
.heat .tok{border-radius:2px}
.heat{line-height:1.9;white-space:pre-wrap}
.heat .target{outline:2px solid #222;outline-offset:1px}
.legend .swatch{display:inline-block;width:2.5em;height:.8em;vertical-align:middle}
"""

JS = r"""
(function(){
"use strict";
var SVGNS="http://www.w3.org/2000/svg";
function drawBlock(block){
  var svg=block.querySelector("svg.arcs");
  if(!svg){return;}
  while(svg.firstChild){svg.removeChild(svg.firstChild);}
  var rels=JSON.parse(block.getAttribute("data-rels")||"[]");
  var box=block.getBoundingClientRect();
  svg.setAttribute("width",String(Math.max(1,box.width)));
  svg.setAttribute("height",String(Math.max(1,box.height)));
  rels.forEach(function(r,i){
    var h=document.getElementById(r.h),t=document.getElementById(r.t);
    if(!h||!t||h.classList.contains("off")||t.classList.contains("off")){return;}
    var hb=h.getClientRects()[0],tb=t.getClientRects()[0];
    if(!hb||!tb){return;}
    var x1=hb.left+hb.width/2-box.left,y1=hb.top-box.top;
    var x2=tb.left+tb.width/2-box.left,y2=tb.top-box.top;
    var lift=14+4*(i%3);
    var top=Math.min(y1,y2)-lift;
    var path=document.createElementNS(SVGNS,"path");
    path.setAttribute("class","arc");
    path.setAttribute("data-label",r.l);
    path.setAttribute("d","M"+x1+","+y1+" C"+x1+","+top+" "+x2+","+top+" "+x2+","+y2);
    path.setAttribute("marker-end","url(#arrow)");
    var title=document.createElementNS(SVGNS,"title");
    title.textContent=r.l+" "+r.s.toFixed(2)+": "+h.getAttribute("data-text")+" \u2192 "+
      t.getAttribute("data-text");
    path.appendChild(title);
    svg.appendChild(path);
    var label=document.createElementNS(SVGNS,"text");
    label.setAttribute("class","arc-label");
    label.setAttribute("x",String((x1+x2)/2));
    label.setAttribute("y",String(top+4));
    label.setAttribute("text-anchor","middle");
    label.textContent=r.l+" "+r.s.toFixed(2);
    svg.appendChild(label);
  });
}
function drawAll(){
  var blocks=document.querySelectorAll(".block[data-rels]");
  for(var i=0;i<blocks.length;i++){drawBlock(blocks[i]);}
  document.body.setAttribute("data-arcs",String(document.querySelectorAll("path.arc").length));
}
function wireFilters(){
  var boxes=document.querySelectorAll(".filters input[data-label]");
  for(var i=0;i<boxes.length;i++){
    boxes[i].addEventListener("change",function(ev){
      var label=ev.target.getAttribute("data-label"),on=ev.target.checked;
      var marks=document.querySelectorAll("mark.ent");
      for(var j=0;j<marks.length;j++){
        if(marks[j].getAttribute("data-label")===label){marks[j].classList.toggle("off",!on);}
      }
      drawAll();
    });
  }
}
var timer=null;
window.addEventListener("resize",function(){
  if(timer){window.clearTimeout(timer);}
  timer=window.setTimeout(drawAll,100);
});
function start(){wireFilters();drawAll();document.body.setAttribute("data-ready","1");}
if(document.readyState==="loading"){document.addEventListener("DOMContentLoaded",start);}
else{start();}
})();
"""

# One arrow head for every arc (markers are found by id across the document's SVGs).
ARROW_DEFS = (
    '<svg width="0" height="0" style="position:absolute" aria-hidden="true"><defs>'
    '<marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
    'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#444"/>'
    "</marker></defs></svg>"
)
