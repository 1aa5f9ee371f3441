using System.Buffers;
using FlowOrleans.Transport.Endpoints;
using FlowOrleans.Transport.Messages;
using FlowOrleans.Transport.Security;
using Microsoft.Extensions.Logging;

namespace FlowOrleans.Transport.Connections;

/// <summary>
/// Keeps a live connection's discharges fresh in both directions, as Vanadium's conn does (its <c>blessingsLoop</c>
/// and <c>handleAuth</c>); flows are untouched either way.
/// <list type="bullet">
/// <item>This side: when the blessings it presented carry third-party caveats, it sends newer discharges for them in an
/// <see cref="Auth"/> message that carries discharges only: at once when its principal caches one
/// (<see cref="Principal.CacheDischarge"/>), and at each refresh point, halfway through the remaining life of the
/// discharges it sent (Vanadium's <c>DischargeRefreshFraction</c>), where it asks its authorizer's
/// <see cref="IPeerAuthorizer.BlessingsForPeer"/> again, and a minute later each time nothing newer came (Vanadium
/// retries failed discharge fetches after a minute).</item>
/// <item>The peer's side: discharges it sends are judged by this side's authorizers, as in the handshake, before they
/// replace <see cref="Remote"/> and the accepted names, and renew the connection's <see cref="PeerTrust"/> (whether the
/// peer may open flows, and until when its names hold, which fresh discharges move on); a refusal closes the connection,
/// as it would have refused the handshake. Refreshes that arrive while one is judged are coalesced: only the latest is
/// judged next.</item>
/// </list>
/// </summary>
internal sealed partial class DischargeRefresh
{
    /// <summary>How long to wait before asking again when a refresh point found nothing newer.</summary>
    internal static readonly TimeSpan RetryDelay = TimeSpan.FromMinutes(1);

    /// <summary>The least time between two refreshes this side sends.</summary>
    private static readonly TimeSpan MinInterval = TimeSpan.FromSeconds(1);

    // Timers cannot wait ~50 days or more; a discharge may live longer. The loop wakes this often at least and recomputes.
    private static readonly TimeSpan MaxWait = TimeSpan.FromDays(1);

    private readonly ManagedConnection _connection;
    private readonly ConnectionSettings _settings;
    private readonly HandshakeResult _session;
    private readonly TimeProvider _time;
    private readonly HashSet<string> _needed;
    private readonly DateTimeOffset _presentedAt;
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _remoteLock = new();
    private Discharges _local;
    private RemoteCredentials _remote;
    private Task _loop = Task.CompletedTask;

    // Guarded by _remoteLock: the latest refresh not yet judged, and whether a judge is running.
    private Discharges? _pendingRemote;
    private bool _judging;

    public DischargeRefresh(ManagedConnection connection, ConnectionSettings settings, HandshakeResult session)
    {
        _connection = connection;
        _settings = settings;
        _session = session;
        _time = settings.Options.TimeProvider;
        _needed = session.LocalBlessings.ThirdPartyCaveats.Select(c => c.DischargeId).ToHashSet(StringComparer.Ordinal);
        _local = session.LocalDischarges;
        _presentedAt = _time.GetUtcNow();
        _remote = new RemoteCredentials(session.RemoteDischarges, session.RemoteBlessingNames);
    }

    /// <summary>The discharges this side presented last.</summary>
    public Discharges Local => Volatile.Read(ref _local);

    /// <summary>The peer's discharges this side's authorizer accepted last.</summary>
    public Discharges Remote => Volatile.Read(ref _remote).Discharges;

    /// <summary>The peer's names that verdict accepted.</summary>
    public IReadOnlyList<string> RemoteNames => Volatile.Read(ref _remote).Names;

    /// <summary>Starts refreshing this side's discharges, if the blessings it presented need any.</summary>
    public void Start()
    {
        if (_needed.Count > 0 && !_stopped.Task.IsCompleted)
        {
            // One of the connection's loops: it ends before the connection reports itself closed.
            _connection.Counters.LoopStarted();
            _loop = Task.Run(RefreshLocalAsync);
        }
    }

    /// <summary>Stops both directions; completes when the local refresh loop has ended.</summary>
    public Task StopAsync()
    {
        _stopped.TrySetResult();
        return _loop;
    }

    /// <summary>
    /// The read loop got an <see cref="Auth"/>: the peer's fresh discharges. Malformed ones, or any attempt to change
    /// blessings, are a protocol violation (<see cref="FlowErrorCode.BadArg"/>, thrown to the read loop); judging them
    /// runs off the read loop.
    /// </summary>
    public void OnPeerRefresh(Auth auth)
    {
        if (!auth.Blessings.IsEmpty || !auth.Signature.IsEmpty)
        {
            throw new FlowException(FlowErrorCode.BadArg,
                "An Auth message on an established connection may carry only discharges: the handshake fixed the blessings.");
        }

        var discharges = Discharges.Decode(auth.Discharges.IsSingleSegment ? auth.Discharges.FirstSpan : auth.Discharges.ToArray());
        lock (_remoteLock)
        {
            _pendingRemote = discharges;
            if (_judging)
            {
                return;
            }

            _judging = true;
        }

        _ = Task.Run(JudgePeerRefreshesAsync);
    }

    /// <summary>
    /// When this side should look for fresher discharges, having sent <paramref name="sent"/> at
    /// <paramref name="sentAt"/> for the caveats <paramref name="needed"/>: halfway through the remaining life of the
    /// one that expires first, a minute on for a caveat it had no discharge for, null when none of them expires.
    /// </summary>
    internal static DateTimeOffset? NextRefresh(Discharges sent, IEnumerable<string> needed, DateTimeOffset sentAt)
    {
        DateTimeOffset? next = null;
        foreach (var id in needed)
        {
            DateTimeOffset point;
            if (!sent.TryGetValue(id, out var discharge))
            {
                point = sentAt + RetryDelay;
            }
            else if (discharge.Expiry is { } expiry)
            {
                point = sentAt + ((expiry - sentAt) / 2);
            }
            else
            {
                continue;
            }

            if (next is null || point < next)
            {
                next = point;
            }
        }

        return next;
    }

    private async Task RefreshLocalAsync()
    {
        try
        {
            await RefreshLocalCoreAsync().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // Never faults: closing awaits this loop. An authorizer that throws anything but a FlowException is a bug
            // the connection cannot work around.
            _connection.Fail(e, "Refreshing this side's discharges failed");
        }
        finally
        {
            _connection.Counters.LoopStopped();
        }
    }

    private async Task RefreshLocalCoreAsync()
    {
        var sent = Local;
        var sentAt = _presentedAt;
        DateTimeOffset? retryAt = null;
        DateTimeOffset? due = null;
        while (true)
        {
            // Taken before looking, so a discharge cached while this side looks (or since the handshake) still wakes it.
            var cacheChanged = _settings.Principal.DischargesChanged;
            var fresh = Prepare() ?? sent;
            if (!fresh.ToBytes().AsSpan().SequenceEqual(sent.ToBytes()))
            {
                var refresh = new Auth(ReadOnlySequence<byte>.Empty, new ReadOnlySequence<byte>(fresh.ToBytes()), ReadOnlySequence<byte>.Empty);
                if (!_connection.TrySendControl(refresh))
                {
                    return; // closing
                }

                Volatile.Write(ref _local, fresh);
                sent = fresh;
                sentAt = _time.GetUtcNow();
                retryAt = null;
                LogSent(_settings.Logger, _session.RemoteEndpoint, fresh.Count);

                // Discharges cached in a burst go out together, in one refresh a second at most.
                if (!await WaitAsync(_stopped.Task, sentAt + MinInterval).ConfigureAwait(false))
                {
                    return;
                }
            }
            else if (due is { } passed && _time.GetUtcNow() >= passed)
            {
                retryAt = _time.GetUtcNow() + RetryDelay;
            }

            due = NextRefresh(sent, _needed, sentAt);
            if (due is { } point && retryAt > point)
            {
                due = retryAt;
            }

            if (!await WaitAsync(cacheChanged, due).ConfigureAwait(false))
            {
                return;
            }
        }
    }

    /// <summary>Waits for a cached discharge, the refresh point or stopping; false when stopped.</summary>
    private async Task<bool> WaitAsync(Task cacheChanged, DateTimeOffset? due)
    {
        if (due is null)
        {
            await Task.WhenAny(cacheChanged, _stopped.Task).ConfigureAwait(false);
            return !_stopped.Task.IsCompleted;
        }

        var wait = due.Value - _time.GetUtcNow();
        wait = wait < TimeSpan.Zero ? TimeSpan.Zero : wait > MaxWait ? MaxWait : wait;
        using var cancelDelay = new CancellationTokenSource();
        var delay = Task.Delay(wait, _time, cancelDelay.Token);
        await Task.WhenAny(cacheChanged, delay, _stopped.Task).ConfigureAwait(false);
        await cancelDelay.CancelAsync().ConfigureAwait(false);
        return !_stopped.Task.IsCompleted;
    }

    /// <summary>The discharges to present now, for the caveats of the blessings this side presented; null if the authorizer failed.</summary>
    private Discharges? Prepare()
    {
        try
        {
            var (_, offered) = _settings.Authorizer.BlessingsForPeer(RemoteNames);
            var fresh = Discharges.Create(offered.Values.Where(d => _needed.Contains(d.ThirdPartyCaveatId)));

            // A peer decodes no more; and what waits to be sent counts against the connection's control budget.
            var limit = Math.Min(SecurityLimits.MaxEncodedBytes, _settings.Options.ControlBudget / 2);
            return fresh.ToBytes().Length <= limit
                ? fresh
                : throw new FlowException(FlowErrorCode.BadArg, $"The discharges encode to more than {limit} bytes, more than a refresh may carry.");
        }
        catch (FlowException e)
        {
            LogPrepareFailed(_settings.Logger, _session.RemoteEndpoint, e.Code, e.Message);
            return null;
        }
    }

    private async Task JudgePeerRefreshesAsync()
    {
        while (true)
        {
            Discharges discharges;
            lock (_remoteLock)
            {
                if (_pendingRemote is null || _stopped.Task.IsCompleted)
                {
                    _judging = false;
                    return;
                }

                discharges = _pendingRemote;
                _pendingRemote = null;
            }

            try
            {
                var (remote, blessings) = (_session.RemoteEndpoint, _session.RemoteBlessings);
                var verdict = await Handshake.AuthorizeAsync(_settings, remote, blessings, discharges, CancellationToken.None).ConfigureAwait(false);
                var (peerMayOpenFlows, trustedUntil) = await Handshake.JudgeTrustAsync(
                    _settings, remote, blessings, discharges, verdict, CancellationToken.None).ConfigureAwait(false);
                _connection.RenewTrust(peerMayOpenFlows, trustedUntil);
                Volatile.Write(ref _remote, new RemoteCredentials(discharges, verdict.AcceptedNames));
            }
            catch (Exception e)
            {
                // As in the handshake, the peer learns the code and a reason that depends on it alone; the authorizer's
                // full reason (its policy) stays in the local log and the connection's CloseReason.
                var code = e is FlowException flow ? flow.Code : FlowErrorCode.NotTrusted;
                LogRefreshRefused(_settings.Logger, _session.RemoteEndpoint, code, e.Message);
                _connection.Fail(new FlowException(code, "Refreshed discharges refused. " + Handshake.GenericReason(code, _session.Role), e),
                    "Judging the peer's discharges failed", tellPeer: true);
                lock (_remoteLock)
                {
                    _judging = false;
                }

                return;
            }
        }
    }

    /// <summary>What this side accepted of the peer: its discharges and the names they (with its blessings) earned.</summary>
    private sealed record RemoteCredentials(Discharges Discharges, IReadOnlyList<string> Names);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Sent {Count} fresh discharges to {Remote}")]
    private static partial void LogSent(ILogger logger, Endpoint remote, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "Refused the discharges {Remote} refreshed: {Code} {Reason}")]
    private static partial void LogRefreshRefused(ILogger logger, Endpoint remote, FlowErrorCode code, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "No fresh discharges for {Remote}: {Code} {Reason}")]
    private static partial void LogPrepareFailed(ILogger logger, Endpoint remote, FlowErrorCode code, string reason);
}
