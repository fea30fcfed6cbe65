"""Episode datasets on disk: one HDF5 file per episode in the robomimic layout."""
from grm.dataset.episode_io import Episode, EpisodeData, dataset_cameras, list_episodes, open_episode, write_episode

__all__ = ["Episode", "EpisodeData", "dataset_cameras", "list_episodes", "open_episode", "write_episode"]
