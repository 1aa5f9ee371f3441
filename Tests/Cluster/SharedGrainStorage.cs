using System.Collections.Concurrent;
using Orleans.Serialization;
using Orleans.Storage;

namespace FlowOrleans.Tests.Cluster;

/// <summary>
/// Grain storage shared by every silo of an in-process cluster and kept outside them, so state survives killing any
/// silo: Orleans' memory storage keeps state in grains that die with their silo, which would turn a failover test
/// into a storage-loss test. Stands in for PostgreSQL; ETags are checked like a real store would.
/// </summary>
internal sealed class SharedGrainStorage(ConcurrentDictionary<string, (byte[] Data, string ETag)> store, Serializer serializer) : IGrainStorage
{
    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        if (store.TryGetValue(Key(stateName, grainId), out var entry))
        {
            grainState.State = serializer.Deserialize<T>(entry.Data);
            grainState.ETag = entry.ETag;
            grainState.RecordExists = true;
        }

        return Task.CompletedTask;
    }

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var key = Key(stateName, grainId);
        var next = (serializer.SerializeToArray(grainState.State), Guid.NewGuid().ToString("N"));
        lock (store)
        {
            var current = store.TryGetValue(key, out var entry) ? entry.ETag : null;
            if (current != grainState.ETag)
            {
                throw new InconsistentStateException($"ETag mismatch for {key}", current, grainState.ETag);
            }

            store[key] = next;
        }

        grainState.ETag = next.Item2;
        grainState.RecordExists = true;
        return Task.CompletedTask;
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        lock (store)
        {
            store.TryRemove(Key(stateName, grainId), out _);
        }

        grainState.ETag = null;
        grainState.RecordExists = false;
        return Task.CompletedTask;
    }

    private static string Key(string stateName, GrainId grainId) => stateName + "/" + grainId;
}
