# A float64 NumPy reimplementation of transformers Qwen2 forward (eager attention, default RoPE) for a
# safetensors folder: python3 qwen2_reference.py FOLDER ID,ID,... OUT.npy  -> log-probabilities after the last id.
import numpy as np, json, struct, sys
d=sys.argv[1]
f=open(d+"/model.safetensors","rb"); n=struct.unpack("<Q",f.read(8))[0]; hdr=json.loads(f.read(n)); base=8+n
data=open(d+"/model.safetensors","rb").read()
def T(name):
    h=hdr[name]; a,b=h["data_offsets"]; buf=data[base+a:base+b]
    if h["dtype"]=="F32": return np.frombuffer(buf,np.float32).reshape(h["shape"]).astype(np.float64)
    u=np.frombuffer(buf,np.uint16).astype(np.uint32)<<16
    return u.view(np.float32).reshape(h["shape"]).astype(np.float64)
cfg=json.load(open(d+"/config.json"))
H=cfg["hidden_size"]; NH=cfg["num_attention_heads"]; KV=cfg["num_key_value_heads"]; hd=H//NH; L=cfg["num_hidden_layers"]; eps=cfg["rms_norm_eps"]; theta=cfg["rope_theta"]
ids=[int(x) for x in sys.argv[2].split(",")]
S=len(ids)
x=T("model.embed_tokens.weight")[ids]
inv=1.0/(theta**(np.arange(0,hd,2)/hd))
ang=np.arange(S)[:,None]*inv[None,:]; cos=np.cos(np.concatenate([ang,ang],1)); sin=np.sin(np.concatenate([ang,ang],1))
def rope(v): # v [S, heads, hd]
    h=hd//2; rot=np.concatenate([-v[...,h:],v[...,:h]],-1)
    return v*cos[:,None,:]+rot*sin[:,None,:]
def rms(v,w): return v/np.sqrt((v*v).mean(-1,keepdims=True)+eps)*w
for l in range(L):
    p=f"model.layers.{l}."
    h=rms(x,T(p+"input_layernorm.weight"))
    q=(h@T(p+"self_attn.q_proj.weight").T+T(p+"self_attn.q_proj.bias")).reshape(S,NH,hd)
    k=(h@T(p+"self_attn.k_proj.weight").T+T(p+"self_attn.k_proj.bias")).reshape(S,KV,hd)
    v=(h@T(p+"self_attn.v_proj.weight").T+T(p+"self_attn.v_proj.bias")).reshape(S,KV,hd)
    q=rope(q); k=rope(k)
    out=np.zeros((S,NH,hd))
    for hh in range(NH):
        kh=hh//(NH//KV)
        sc=q[:,hh,:]@k[:,kh,:].T/np.sqrt(hd)
        sc=sc+np.triu(np.full((S,S),-np.inf),1)
        sc=np.exp(sc-sc.max(1,keepdims=True)); sc/=sc.sum(1,keepdims=True)
        out[:,hh,:]=sc@v[:,kh,:]
    x=x+out.reshape(S,NH*hd)@T(p+"self_attn.o_proj.weight").T
    h=rms(x,T(p+"post_attention_layernorm.weight"))
    g=h@T(p+"mlp.gate_proj.weight").T; u=h@T(p+"mlp.up_proj.weight").T
    x=x+((g/(1+np.exp(-g)))*u)@T(p+"mlp.down_proj.weight").T
h=rms(x[-1],T("model.norm.weight"))
W=T("lm_head.weight") if "lm_head.weight" in hdr else T("model.embed_tokens.weight")
lg=W@h
lp=lg-lg.max(); lp=lp-np.log(np.exp(lp).sum())
print("argmax",int(lp.argmax()),"p",np.exp(lp.max()),"logp0",lp[0])
np.save(sys.argv[3] if len(sys.argv)>3 else "/tmp/jlt/ref.npy", lp)
