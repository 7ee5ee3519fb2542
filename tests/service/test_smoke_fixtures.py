import datetime as dt

from ingest.store import get_or_create_user
from ingest.vector_index import ChromaIndex, IndexRecord, make_chroma_client
from service.container import Container
from service.settings import Settings


def test_chroma_server_round_trip(chroma_server: str) -> None:
    index = ChromaIndex(make_chroma_client(chroma_server, None), "smoke")
    index.upsert([IndexRecord("u/a/0", "u", "a", dt.date(2024, 1, 2), 0, 5, "hello", [1.0, 0.0])])
    hits = index.query("u", [1.0, 0.0], 3)
    assert [h.entry_id for h in hits] == ["a"]
    assert hits[0].date == dt.date(2024, 1, 2)


def test_postgres_store(pg_url: str, tmp_path, fake_embeddings) -> None:
    c = Container(Settings(data_dir=tmp_path, database_url=pg_url), embeddings=fake_embeddings)
    with c.sessions() as s:
        u = get_or_create_user(s, "ana")
        s.commit()
        assert get_or_create_user(s, "ana").id == u.id
    c.close()
