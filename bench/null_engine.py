"""A search engine that does nothing: the baseline for bench/argilla.py's bulk-logging rate.

Run by argilla-server's Python through ``WORKBENCH_ARGILLA_PLUGINS`` (see serve.py). It
answers every call instantly with nothing, so logging against it measures argilla-server
and SQLite alone.
"""

from argilla_server.search_engine.base import SearchEngine, SearchResponses, TermsMetrics


@SearchEngine.register(engine_name="workbench-null")
class NullSearchEngine(SearchEngine):
    @classmethod
    async def new_instance(cls):
        return cls()

    async def close(self):
        pass

    async def ping(self):
        return True

    async def info(self):
        return {"engine": "workbench-null"}

    async def create_index(self, dataset):
        pass

    async def delete_index(self, dataset):
        pass

    async def configure_metadata_property(self, dataset, metadata_property):
        pass

    async def index_records(self, dataset, records):
        pass

    async def partial_record_update(self, record, **update):
        pass

    async def delete_records(self, dataset, records):
        pass

    async def update_record_response(self, response):
        pass

    async def delete_record_response(self, response):
        pass

    async def update_record_suggestion(self, suggestion):
        pass

    async def delete_record_suggestion(self, suggestion):
        pass

    async def get_dataset_progress(self, dataset):
        return {}

    async def get_dataset_user_progress(self, dataset, user):
        return {}

    async def search(self, dataset, query=None, filter=None, sort=None, offset=0, limit=100, user_id=None):
        return SearchResponses(items=[], total=0)

    async def compute_metrics_for(self, metadata_property):
        return TermsMetrics(total=0)

    async def similarity_search(self, dataset, vector_settings, value=None, record=None, query=None, filter=None,
                                max_results=100, order=None, threshold=None):
        return SearchResponses(items=[], total=0)
