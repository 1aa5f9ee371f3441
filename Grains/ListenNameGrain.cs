using FlowOrleans.GrainInterfaces;
using FlowOrleans.GrainInterfaces.Security;
using FlowOrleans.Grains.Hosting;
using FlowOrleans.Transport;
using Microsoft.Extensions.Options;

namespace FlowOrleans.Grains;

/// <summary>
/// The owner of one listening name, as the digest of its capability and when its lease ends. Kept in grain storage so
/// a name does not fall free for another application when this grain moves after a silo death.
/// </summary>
internal sealed class ListenNameGrain(
    [PersistentState("listen-name", FlowStorageNames.Default)] IPersistentState<ListenNameState> state,
    IOptions<FlowOrleansOptions> options,
    TimeProvider time) : Grain, IListenNameGrain
{
    public async Task<TimeSpan> AcquireAsync(Capability owner)
    {
        if (owner.IsEmpty)
        {
            throw new FlowException(FlowErrorCode.BadArg, "An owner capability is required to take a listening name.");
        }

        var lease = options.Value.ListenNameLease;
        var refused = false;
        await state.UpdateAsync(s =>
        {
            var now = time.GetUtcNow();
            refused = s.OwnerDigest is not null && s.ExpiresAt > now && !owner.MatchesDigest(s.OwnerDigest);
            if (refused)
            {
                return false;
            }

            s.OwnerDigest = owner.Digest();
            s.ExpiresAt = now + lease;
            return true;
        });
        return refused
            ? throw new FlowException(FlowErrorCode.NotTrusted, $"Listening name '{this.GetPrimaryKeyString()}' belongs to another application.")
            : lease;
    }

    public Task ReleaseAsync(Capability owner) => state.UpdateAsync(s =>
    {
        if (!owner.MatchesDigest(s.OwnerDigest))
        {
            return false;
        }

        s.OwnerDigest = null;
        return true;
    });

    public Task<bool> IsOwnerAsync(Capability owner) =>
        Task.FromResult(owner.MatchesDigest(state.State.OwnerDigest) && state.State.ExpiresAt > time.GetUtcNow());
}

/// <summary>Persistent state of a <see cref="ListenNameGrain"/>.</summary>
[GenerateSerializer, Alias("FlowOrleans.ListenNameState")]
internal sealed class ListenNameState
{
    /// <summary>Digest of the owner's capability; null while nobody holds the name.</summary>
    [Id(0)]
    public string? OwnerDigest { get; set; }

    [Id(1)]
    public DateTimeOffset ExpiresAt { get; set; }
}
