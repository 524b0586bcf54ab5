const b=document.getElementById('print');if(b)b.addEventListener('click',()=>print());
