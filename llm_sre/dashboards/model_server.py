"""Model server: Ollama's state as the llm-sre exporter sees it, and vLLM's own metrics.

Ollama has no /metrics; the exporter polls /api/ps and /api/tags. vLLM publishes ``vllm:*``
itself and Prometheus scrapes it directly; those panels stay empty for teams not on vLLM.
"""

from __future__ import annotations

from llm_sre.dashboards import panels as p
from llm_sre.dashboards.board import Board, Row

UID = "llm-sre-model-server"

MODEL = '{model=~"$model"}'
VLLM = '{model_name=~"$vllm_model"}'


def board() -> Board:
    ollama = Row(
        "Ollama",
        [
            p.Tile(
                p.stat_panel(
                    "Ollama",
                    p.Query("min(llm_sre_ollama_up)"),
                    unit="none",
                    limits=p.thresholds((None, "red"), (1, "green")),
                    mappings=p.up_down_mappings(),
                )
            ),
            p.Tile(
                p.stat_panel(
                    "Loaded models",
                    p.Query("sum(llm_sre_ollama_loaded_models)"),
                    unit="short",
                    limits=p.thresholds((None, "orange"), (1, "green")),
                    description="Zero means the next request pays the model load time.",
                )
            ),
            p.Tile(
                p.stat_panel(
                    "Available models", p.Query("sum(llm_sre_ollama_available_models)"), unit="short"
                )
            ),
            p.Tile(
                p.stat_panel("VRAM in use", p.Query("sum(llm_sre_ollama_model_vram_bytes)"), unit="bytes")
            ),
            p.Tile(
                p.timeseries_panel(
                    "VRAM by model",
                    [
                        p.Query(f"sum by (model) (llm_sre_ollama_model_vram_bytes{MODEL})", "{{model}}"),
                    ],
                    unit="bytes",
                    stack=True,
                ),
                key=True,
            ),
            p.Tile(
                p.timeseries_panel(
                    "Model loads and unloads",
                    [
                        p.Query(
                            p.increase("llm_sre_ollama_model_loads_total", MODEL, ("model",)),
                            "load {{model}}",
                        ),
                        p.Query(
                            f"-{p.increase('llm_sre_ollama_model_unloads_total', MODEL, ('model',))}",
                            "unload {{model}}",
                        ),
                    ],
                    unit="short",
                    description="Loads above zero, unloads below; frequent swaps mean too little VRAM.",
                ),
                key=True,
            ),
            p.Tile(
                p.timeseries_panel(
                    "Time until unload",
                    [
                        p.Query(
                            f"max by (model) (llm_sre_ollama_model_expiry_timestamp_seconds{MODEL}) - time()",
                            "{{model}}",
                        ),
                    ],
                    unit="s",
                    min_value=0,
                    description="keep_alive left before Ollama evicts the model.",
                    width=24,
                )
            ),
            p.Tile(
                p.timeseries_panel(
                    "Ollama requests by kind and model",
                    [
                        p.Query(
                            p.rate("llm_sre_ollama_requests_total", by=("kind", "gen_ai_request_model")),
                            "{{kind}} {{gen_ai_request_model}}",
                        ),
                    ],
                    unit="reqps",
                    stack=True,
                    description="From the app's trace files (ollama.usage): generation and embedding calls.",
                )
            ),
            p.Tile(
                p.timeseries_panel(
                    "Ollama request latency p95",
                    [
                        p.Query(
                            p.quantile(0.95, "llm_sre_ollama_request_duration_seconds", by=("kind",)),
                            "trace {{kind}}",
                        ),
                        p.Query(
                            p.quantile(
                                0.95, "gen_ai_server_request_duration_seconds", by=("gen_ai_request_model",)
                            ),
                            "server {{gen_ai_request_model}}",
                        ),
                    ],
                    unit="s",
                    description="As the trace files saw it, and Ollama's own total_duration per model.",
                )
            ),
        ],
    )
    vllm = Row(
        "vLLM",
        [
            p.Tile(
                p.timeseries_panel(
                    "Requests running and waiting",
                    [
                        p.Query(
                            f"sum by (model_name) (vllm:num_requests_running{VLLM})", "running {{model_name}}"
                        ),
                        p.Query(
                            f"sum by (model_name) (vllm:num_requests_waiting{VLLM})", "waiting {{model_name}}"
                        ),
                    ],
                    unit="short",
                    min_value=0,
                )
            ),
            p.Tile(
                p.timeseries_panel(
                    "KV cache usage",
                    [
                        # vLLM V1 renamed gpu_cache_usage_perc to kv_cache_usage_perc; accept either version.
                        p.Query(
                            f"max by (model_name) "
                            f"(vllm:kv_cache_usage_perc{VLLM} or vllm:gpu_cache_usage_perc{VLLM})",
                            "{{model_name}}",
                        ),
                    ],
                    unit="percentunit",
                    min_value=0,
                    max_value=1,
                    limits=p.thresholds((None, "green"), (0.9, "red")),
                )
            ),
            p.Tile(
                p.timeseries_panel(
                    "Time to first token",
                    p.percentiles("vllm:time_to_first_token_seconds", VLLM, qs=(0.5, 0.95)),
                    unit="s",
                )
            ),
            p.Tile(
                p.timeseries_panel(
                    "End-to-end request latency",
                    p.percentiles("vllm:e2e_request_latency_seconds", VLLM, qs=(0.5, 0.95)),
                    unit="s",
                )
            ),
            p.Tile(
                p.timeseries_panel(
                    "Tokens per second",
                    [
                        p.Query(p.rate("vllm:prompt_tokens_total", VLLM), "prompt"),
                        p.Query(p.rate("vllm:generation_tokens_total", VLLM), "generation"),
                    ],
                    unit="suffix: tok/s",
                )
            ),
            p.Tile(
                p.timeseries_panel(
                    "Preemptions and finished requests",
                    [
                        p.Query(p.rate("vllm:num_preemptions_total", VLLM), "preemptions"),
                        p.Query(
                            p.rate("vllm:request_success_total", VLLM, ("finished_reason",)),
                            "{{finished_reason}}",
                        ),
                    ],
                    unit="reqps",
                )
            ),
        ],
    )
    return Board(
        uid=UID,
        title="Model server",
        description="Ollama availability, loaded models and VRAM; vLLM queue, KV cache and latency.",
        variables=(
            p.label_variable("model", "llm_sre_ollama_model_vram_bytes", "model", "Ollama model"),
            p.label_variable("vllm_model", "vllm:num_requests_running", "model_name", "vLLM model"),
        ),
        rows=(ollama, vllm),
    )
