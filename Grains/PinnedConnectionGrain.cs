using FlowOrleans.GrainInterfaces;
using FlowOrleans.GrainInterfaces.Security;
using FlowOrleans.Grains.Diagnostics;
using FlowOrleans.Grains.Hosting;
using FlowOrleans.Transport;
using FlowOrleans.Transport.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FlowOrleans.Grains;

/// <summary>
/// One named pin of the cluster. The desired state lives in storage; a timer checks the owner silo while the grain
/// is active, every silo asks it to check when a silo dies, and a reminder reactivates it after a full restart.
/// Owners are chosen by rendezvous hashing of the pin name over the live silos, so pins spread and move as little
/// as possible. Every write is an ETag-checked update (<see cref="PersistentStateUpdates"/>): a duplicate activation
/// after a silo death re-reads what the other wrote instead of overwriting it. A pin belongs to the capability that
/// created it: the state keeps its digest, which callers never see, and which the silo holding the pin also requires.
/// What a pin dials passes the client policy and trust before anything is stored.
/// </summary>
internal sealed partial class PinnedConnectionGrain(
    [PersistentState("pin", FlowStorageNames.Default)] IPersistentState<PinState> state,
    IClusterMembershipService membership,
    IOptions<FlowOrleansOptions> options,
    SiloTransport transport,
    TimeProvider time,
    ILogger<PinnedConnectionGrain> logger) : Grain, IPinnedConnectionGrain, IRemindable
{
    private const string ReminderName = "re-pin";
    private IGrainTimer? _timer;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (state.State.Request is not null)
        {
            StartTimer();
        }

        return Task.CompletedTask;
    }

    public async Task<PinState> PinAsync(PinRequest request, Capability owner)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(request.Endpoint);
        ArgumentNullException.ThrowIfNull(request.BlessingPatterns);
        using var activity = ClusterActivities.StartPin(ClusterActivities.ClusterPin, this.GetPrimaryKeyString());
        ClusterActivities.SetRemote(activity, request.Endpoint);
        try
        {
            var pinned = await PinCoreAsync(request, owner);
            ClusterActivities.SetPinState(activity, pinned);
            return pinned;
        }
        catch (Exception e)
        {
            TransportTelemetry.SetError(activity, e);
            throw;
        }
    }

    private async Task<PinState> PinCoreAsync(PinRequest request, Capability owner)
    {
        if (owner.IsEmpty)
        {
            throw new FlowException(FlowErrorCode.BadArg, "An owner capability is required to pin.");
        }

        var name = this.GetPrimaryKeyString();
        ThrowUnlessOwner(state.State, owner, name);
        await transport.CheckPinAsync(request, CancellationToken.None);

        string? replacedOwner = null;
        string? replacedDigest = null;
        var refused = false;
        await state.UpdateAsync(s =>
        {
            replacedOwner = null;
            refused = !IsOwner(s, owner);
            if (refused)
            {
                return false;
            }

            if (s.Request is { } previous && previous != request && s.OwnerSilo is { } holder)
            {
                replacedOwner = holder;
                replacedDigest = s.OwnerDigest ?? "";
                s.OwnerSilo = null;
            }

            s.Name = name;
            s.Request = request;
            s.OwnerDigest = owner.Digest();
            s.Status = s.OwnerSilo is null ? PinStatus.Pending : s.Status;
            return true;
        });
        ThrowUnlessOwner(refused, name);
        if (replacedOwner is not null)
        {
            await UnpinOnAsync(replacedOwner, name, replacedDigest!);
        }

        await GrainFactory.GetGrain<IPinIndexGrain>(0).AddAsync(name);
        var period = options.Value.PinReminderPeriod;
        await this.RegisterOrUpdateReminder(ReminderName, period, period);
        StartTimer();
        await EnsureCoreAsync();
        return ForCaller(state.State);
    }

    public async Task UnpinAsync(Capability owner)
    {
        using var activity = ClusterActivities.StartPin(ClusterActivities.ClusterUnpin, this.GetPrimaryKeyString());
        try
        {
            await UnpinCoreAsync(owner);
        }
        catch (Exception e)
        {
            TransportTelemetry.SetError(activity, e);
            throw;
        }
    }

    private async Task UnpinCoreAsync(Capability owner)
    {
        var name = this.GetPrimaryKeyString();
        if (state.State.Request is null)
        {
            return;
        }

        ThrowUnlessOwner(state.State, owner, name);
        var digest = state.State.OwnerDigest ?? "";
        StopTimer();

        // "Everywhere": a silo that held the pin before a move may still hold it if the move raced its death notice.
        var silos = membership.CurrentSnapshot.Members.Values.Where(m => m.Status == SiloStatus.Active).Select(m => SiloKeys.ToKey(m.SiloAddress));
        await Task.WhenAll(silos.Select(silo => UnpinOnAsync(silo, name, digest)));
        try
        {
            var reminder = await this.GetReminder(ReminderName);
            if (reminder is not null)
            {
                await this.UnregisterReminder(reminder);
            }
        }
        catch (ReminderException e)
        {
            // A leftover reminder only wakes the grain, which finds no desired state and does nothing.
            LogOwnerUnreachable(logger, e, name, "reminder service");
        }

        await GrainFactory.GetGrain<IPinIndexGrain>(0).RemoveAsync(name);
        await state.ClearAsync();
        state.State = new PinState();
        LogUnpinned(logger, name);
    }

    public Task<PinState?> GetAsync() => Task.FromResult(state.State.Request is null ? null : ForCaller(state.State));

    public async Task<PinState?> EnsureAsync()
    {
        if (state.State.Request is null)
        {
            return null;
        }

        await EnsureCoreAsync();
        return ForCaller(state.State);
    }

    public async Task<PinState?> MoveOffAsync(string silo)
    {
        ArgumentException.ThrowIfNullOrEmpty(silo);
        if (state.State.Request is null)
        {
            return null;
        }

        var leavingHolds = state.State.OwnerSilo == silo;
        if (!LiveSilos().Any(s => s != silo))
        {
            // The last silo leaving: nowhere to go; the next silo to start takes the pin (EnsurePinsOnStart, reminder).
            return ForCaller(state.State);
        }

        await EnsureCoreAsync(excluded: silo);
        if (leavingHolds && state.State.OwnerSilo is { } now && now != silo && state.State.Status == PinStatus.Pinned)
        {
            // Make before break: the leaving silo lets its connection go only once the new holder has its own.
            await UnpinOnAsync(silo, this.GetPrimaryKeyString(), state.State.OwnerDigest ?? "");
        }

        return ForCaller(state.State);
    }

    /// <summary>
    /// True if <paramref name="owner"/> may change the pin: nobody pins the name, or it is <paramref name="owner"/>'s.
    /// A pin stored before pins had owners (no digest) is taken by the first owner that pins or unpins it.
    /// </summary>
    private static bool IsOwner(PinState s, Capability owner) =>
        s.Request is null || s.OwnerDigest is null || owner.MatchesDigest(s.OwnerDigest);

    private static void ThrowUnlessOwner(PinState s, Capability owner, string name) => ThrowUnlessOwner(!IsOwner(s, owner), name);

    private static void ThrowUnlessOwner(bool refused, string name)
    {
        if (refused)
        {
            throw new FlowException(FlowErrorCode.NotTrusted, $"Pin '{name}' belongs to another owner.");
        }
    }

    /// <summary>A copy of the state without the owner's digest, which only grains may see.</summary>
    private static PinState ForCaller(PinState s) => new()
    {
        Name = s.Name,
        Request = s.Request,
        OwnerSilo = s.OwnerSilo,
        Status = s.Status,
        LastError = s.LastError,
        Reconnects = s.Reconnects,
        Moves = s.Moves,
        UpdatedAt = s.UpdatedAt,
    };

    // A leftover reminder of an unpinned name finds no request; EnsureCoreAsync then does nothing.
    public Task ReceiveReminder(string reminderName, TickStatus status) => EnsureCoreAsync();

    private void StartTimer()
    {
        _timer ??= this.RegisterGrainTimer(static (grain, _) => grain.EnsureCoreAsync(), this, options.Value.PinCheckPeriod, options.Value.PinCheckPeriod);
    }

    private void StopTimer()
    {
        _timer?.Dispose();
        _timer = null;
    }

    private HashSet<string> LiveSilos() => membership.CurrentSnapshot.Members.Values
        .Where(m => m.Status == SiloStatus.Active)
        .Select(m => SiloKeys.ToKey(m.SiloAddress))
        .ToHashSet(StringComparer.Ordinal);

    /// <summary>Checks the owner and re-pins if needed, never on <paramref name="excluded"/> (a silo that is leaving).</summary>
    private async Task EnsureCoreAsync(string? excluded = null)
    {
        if (state.State.Request is not { } request)
        {
            return;
        }

        var name = this.GetPrimaryKeyString();
        var live = LiveSilos();
        if (excluded is not null)
        {
            live.Remove(excluded);
        }

        if (state.State.OwnerSilo is { } owner && live.Contains(owner))
        {
            try
            {
                var held = await GrainFactory.GetGrain<ISiloFlowGrain>(owner).GetPinAsync(name);
                if (held is not null)
                {
                    await RecordAsync(owner, held, moved: false);
                    return;
                }
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                LogOwnerUnreachable(logger, e, name, owner);
            }
        }

        var candidates = live.OrderByDescending(silo => RendezvousScore(name, silo)).ToArray();
        foreach (var silo in candidates)
        {
            try
            {
                var pinned = await GrainFactory.GetGrain<ISiloFlowGrain>(silo).PinAsync(name, request, state.State.OwnerDigest ?? "");
                var moved = state.State.OwnerSilo is not null && state.State.OwnerSilo != silo;
                if (await RecordAsync(silo, pinned, moved))
                {
                    LogPinnedOn(logger, name, silo, moved);
                }

                return;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                state.State.LastError = e.Message;
                LogPinFailed(logger, e, name, silo);
            }
        }

        var lastError = state.State.LastError;
        await state.UpdateAsync(s =>
        {
            if (s.Request is null)
            {
                return false;
            }

            s.Status = PinStatus.Failed;
            s.LastError = lastError;
            s.UpdatedAt = time.GetUtcNow();
            return true;
        });
    }

    /// <summary>
    /// Records that <paramref name="owner"/> holds the pin. False if another activation unpinned it meanwhile: then
    /// the pin just made on <paramref name="owner"/> is undone, so an unpin is never lost to a race.
    /// </summary>
    private async Task<bool> RecordAsync(string owner, SiloPin pin, bool moved)
    {
        var pinnedFor = state.State.OwnerDigest ?? "";
        var unpinned = false;
        await state.UpdateAsync(s =>
        {
            unpinned = s.Request is null;
            if (unpinned)
            {
                return false;
            }

            // Reconnects counts moves plus the reconnects of the pin on its current owner.
            var switched = moved && s.OwnerSilo != owner;
            var moves = s.Moves + (switched ? 1 : 0);
            var reconnects = moves + pin.Reconnects;
            if (s.OwnerSilo == owner && s.Status == PinStatus.Pinned && s.Reconnects == reconnects)
            {
                return false;
            }

            s.Moves = moves;
            s.Reconnects = reconnects;
            s.OwnerSilo = owner;
            s.Status = PinStatus.Pinned;
            s.LastError = null;
            s.UpdatedAt = time.GetUtcNow();
            return true;
        });

        if (unpinned)
        {
            await UnpinOnAsync(owner, this.GetPrimaryKeyString(), pinnedFor);
            StopTimer();
            return false;
        }

        return true;
    }

    private async Task UnpinOnAsync(string silo, string name, string ownerDigest)
    {
        try
        {
            await GrainFactory.GetGrain<ISiloFlowGrain>(silo).UnpinAsync(name, ownerDigest);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A silo that cannot be reached is gone or going; its pins go with its FlowManager.
            LogOwnerUnreachable(logger, e, name, silo);
        }
    }

    /// <summary>FNV-1a of name and silo: stable across processes, unlike string.GetHashCode.</summary>
    private static ulong RendezvousScore(string name, string silo)
    {
        var hash = 14695981039346656037UL;
        foreach (var c in name + "\n" + silo)
        {
            hash = (hash ^ c) * 1099511628211UL;
        }

        return hash;
    }

    [LoggerMessage(1, LogLevel.Information, "Pin '{Name}' is held by silo {Silo} (moved: {Moved})")]
    private static partial void LogPinnedOn(ILogger logger, string name, string silo, bool moved);

    [LoggerMessage(2, LogLevel.Warning, "Pin '{Name}' could not be pinned on silo {Silo}")]
    private static partial void LogPinFailed(ILogger logger, Exception exception, string name, string silo);

    [LoggerMessage(3, LogLevel.Debug, "Pin '{Name}': silo {Silo} did not answer")]
    private static partial void LogOwnerUnreachable(ILogger logger, Exception exception, string name, string silo);

    [LoggerMessage(4, LogLevel.Information, "Pin '{Name}' removed")]
    private static partial void LogUnpinned(ILogger logger, string name);
}
