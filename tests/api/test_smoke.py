async def test_health_ready_metrics(platform):
    c = platform.client
    assert (await c.get("/healthz")).json()["status"] == "ok"
    ready = await c.get("/readyz")
    assert ready.status_code == 200 and ready.json()["ready"] is True
    metrics = await c.get("/metrics")
    assert "shortscience_http_requests_total" in metrics.text


async def test_publish_and_read_summary(platform):
    ada = await platform.user()
    paper = await platform.paper(ada)
    s = await platform.summary(ada, paper["id"], body="Residual $y = F(x) + x$.")
    r = await platform.client.get(f"/api/v1/summaries/{s['id']}")
    assert r.status_code == 200
    data = r.json()
    assert data["author"]["username"] == ada["username"]
    assert "<math" in data["body_html"]
    assert r.headers["x-request-id"]
