// The time left on each exit notice, counted on the reader's own clock.
for(const c of document.querySelectorAll('td.left')){
const ms=Number(c.dataset.ends)-Date.now();
const d=Math.floor(ms/864e5),hr=Math.floor(ms%864e5/36e5);
c.textContent=ms>0?'剩 '+d+' 天 '+hr+' 小时 ('+d+'d '+hr+'h left)':'已截止 closed';}
