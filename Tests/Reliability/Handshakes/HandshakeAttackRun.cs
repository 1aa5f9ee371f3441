using System.Threading.Channels;
using FlowOrleans.Tests.Connections;
using FlowOrleans.Transport;
using FlowOrleans.Transport.Connections;
using FlowOrleans.Transport.Endpoints;
using FlowOrleans.Transport.Flows;
using FlowOrleans.Transport.Protocols;
using FlowOrleans.Transport.Security;

namespace FlowOrleans.Tests.Reliability.Handshakes;

/// <summary>A manager taking the acceptor's part: attacks reach it by dialing its memory listener.</summary>
internal sealed record ManagerAcceptor(MemoryProtocol Network, Endpoint Endpoint);

/// <summary>How one attack went: what broke its expectations (nothing, when it held) and how each real side ended.</summary>
internal sealed record AttackResult(IReadOnlyList<string> Problems, string Dialer, string Acceptor);

/// <summary>
/// Runs <see cref="HandshakeAttack"/>s: the real sides (<see cref="ManagedConnection.ConnectAsync"/> and
/// <see cref="ManagedConnection.AcceptAsync"/>, or a manager's listener) over in-memory connections whose far ends the
/// attack holds. Besides each side's ending it checks that nothing is left: every real side lets go of its
/// connection by itself (the attacker's end reads the end of the stream without closing first), and a side that
/// connected before the attack broke the other closes with no loop, flow, buffered byte, window or pooled record
/// buffer left.
/// </summary>
internal static class HandshakeAttackRun
{
    /// <summary>What one attack may take before it counts as a hang; each needs milliseconds.</summary>
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    private static readonly Endpoint AcceptorEndpoint = Endpoint.Create("memory", "acceptor", RoutingId.Parse("000000000000000000000000000a11ce"));
    private static readonly Endpoint DialerEndpoint = Endpoint.Create("memory", "dialer", RoutingId.Parse("00000000000000000000000000d1a1e4"));

    /// <summary>A handshake through an attacker that changes nothing; both sides must connect. Its frames seed the attacks.</summary>
    public static async Task<HandshakeRecording> RecordCleanAsync(ManagerAcceptor? manager = null)
    {
        var attack = new HandshakeAttack("clean", "relayed unchanged", Expect.ConnectsThenCloses, Expect.ConnectsThenCloses, (link, ct) => link.RelayAsync(ct));
        using var cts = new CancellationTokenSource(Bound);
        var (link, dial, accept, listener) = await StartAsync(attack, manager, cts.Token);
        await using (listener)
        {
            var relay = attack.Script(link, cts.Token);
            var dialer = await dial!.WaitAsync(cts.Token);
            var acceptor = accept is null ? null : await accept.WaitAsync(cts.Token);
            var recording = new HandshakeRecording(link.Received(Side.Dialer).Take(2).ToArray(), link.Received(Side.Acceptor).Take(3).ToArray());
            await dialer.DisposeAsync();
            if (acceptor is not null)
            {
                await acceptor.DisposeAsync();
            }

            await relay.WaitAsync(cts.Token);
            await link.DisposeAsync();
            return recording.Dialer.Count == 2 && recording.Acceptor.Count == 3
                ? recording
                : throw new InvalidOperationException("The clean handshake did not send the five messages of docs/architecture.md 3.2.");
        }
    }

    public static async Task<AttackResult> RunAsync(HandshakeAttack attack, ManagerAcceptor? manager = null)
    {
        var problems = new List<string>();
        using var cts = new CancellationTokenSource(Bound);
        var ct = cts.Token;
        var (link, dial, accept, listener) = await StartAsync(attack, manager, ct);
        await using (listener)
        {
            try
            {
                await attack.Script(link, ct).WaitAsync(ct);
            }
            catch (Exception e)
            {
                problems.Add($"the attack itself failed: {e.GetType().Name}: {e.Message}");
            }

            // Nothing pending: each real side closes its connection without the attacker closing first.
            foreach (var side in new[] { Side.Dialer, Side.Acceptor }.Where(link.IsReal))
            {
                try
                {
                    while (await link.ReceiveAsync(side, ct) is not null)
                    {
                    }
                }
                catch (OperationCanceledException)
                {
                    problems.Add($"the {side} still held its connection after {Bound}");
                }
            }

            await link.DisposeAsync();
            var dialer = await EndingOfAsync(dial, attack.Dialer, accept, attack.Acceptor, problems, "dialer");
            var acceptor = manager is null
                ? await EndingOfAsync(accept, attack.Acceptor, dial, attack.Dialer, problems, "acceptor")
                : attack.Acceptor.Ending == Ending.Played ? "played" : "the manager";
            return new AttackResult(problems, dialer, acceptor);
        }
    }

    private static async Task<(AttackLink Link, Task<ManagedConnection>? Dial, Task<ManagedConnection>? Accept, IAsyncDisposable Listener)> StartAsync(
        HandshakeAttack attack, ManagerAcceptor? manager, CancellationToken ct)
    {
        var network = new MemoryProtocol();
        var listener = await network.ListenAsync(MemoryProtocol.ProtocolName, "", ct);
        async Task<(IFramedConnection Wire, IFramedConnection End)> PairAsync()
        {
            var accepted = listener.AcceptAsync(ct).AsTask();
            var dialed = await network.DialAsync(MemoryProtocol.ProtocolName, listener.Address, Bound, ct);
            return (dialed, await accepted.WaitAsync(ct));
        }

        IFramedConnection? dialerWire = null;
        IFramedConnection? acceptorWire = null;
        Task<ManagedConnection>? dial = null;
        Task<ManagedConnection>? accept = null;
        if (attack.Acceptor.Ending != Ending.Played)
        {
            if (manager is null)
            {
                var (wire, end) = await PairAsync();
                acceptorWire = wire;
                accept = ManagedConnection.AcceptAsync(end, new ConnectionSettings
                {
                    Principal = attack.AcceptorPrincipal,
                    Authorizer = PeerAuthorizers.RequireBlessings(attack.AcceptorPrincipal, AttackIdentities.ClientPattern),
                    LocalEndpoint = AcceptorEndpoint,
                    AcceptedFlows = Channel.CreateUnbounded<IFlow>().Writer,
                }, ct);
            }
            else
            {
                acceptorWire = await manager.Network.DialAsync(MemoryProtocol.ProtocolName, manager.Endpoint.Address, Bound, ct);
            }
        }

        if (attack.Dialer.Ending != Ending.Played)
        {
            var (wire, end) = await PairAsync();
            dialerWire = wire;
            dial = ManagedConnection.ConnectAsync(end, new ConnectionSettings
            {
                Principal = attack.DialerPrincipal,
                Authorizer = PeerAuthorizers.RequireBlessings(attack.DialerPrincipal, AttackIdentities.ServerPattern),
                LocalEndpoint = DialerEndpoint,
                RemoteEndpoint = attack.DialerExpectsRoutingId ? manager?.Endpoint ?? AcceptorEndpoint : null,
            }, ct);
        }

        return (new AttackLink(dialerWire, acceptorWire), dial, accept, listener);
    }

    /// <summary>Checks how a real side ended against <paramref name="expect"/>; returns a short description for the tally.</summary>
    private static async Task<string> EndingOfAsync(
        Task<ManagedConnection>? task, Expect expect, Task<ManagedConnection>? other, Expect otherExpect, List<string> problems, string side)
    {
        if (task is null)
        {
            return "played";
        }

        if (await Task.WhenAny(task, Task.Delay(Bound)) != task)
        {
            problems.Add($"the {side}'s handshake did not end within {Bound}");
            return "hung";
        }

        if (task.IsCompletedSuccessfully)
        {
            var connection = task.Result;
            if (expect.Ending != Ending.ConnectsThenCloses)
            {
                problems.Add($"the {side} connected; expected {expect}");
                await connection.DisposeAsync();
                return "connected";
            }

            // Its peer failed: the connection must notice, close with Network and leave nothing behind.
            if (await Task.WhenAny(connection.Closed, Task.Delay(Bound)) != connection.Closed)
            {
                problems.Add($"the {side} connected and its connection stayed open after the peer failed");
                await connection.DisposeAsync();
                return "connected, stayed open";
            }

            if (connection.CloseReason?.Code != FlowErrorCode.Network)
            {
                problems.Add($"the {side}'s connection closed with {connection.CloseReason?.Code.ToString() ?? "no error"}, expected Network");
            }

            var c = connection.Counters;
            using var wait = new CancellationTokenSource(Bound);
            try
            {
                await ConnectionTestKit.WaitUntilAsync(
                    () => c is { RunningLoops: 0, OpenFlows: 0, BufferedBytes: 0, ReservedWindowBytes: 0, OutstandingBuffers: 0 }, cancellationToken: wait.Token);
            }
            catch (OperationCanceledException)
            {
                problems.Add($"the {side}'s closed connection kept {c.RunningLoops} loops, {c.OpenFlows} flows, {c.BufferedBytes} B buffered, " +
                    $"{c.ReservedWindowBytes} B of windows, {c.OutstandingBuffers} pooled record buffers");
            }

            return $"connected, closed {connection.CloseReason?.Code}";
        }

        if (task.Exception?.InnerException is not FlowException error)
        {
            problems.Add($"the {side} failed with {task.Exception?.InnerException?.GetType().Name}, not a FlowException: {task.Exception?.InnerException?.Message}");
            return "other exception";
        }

        var allowed = expect.Ending switch
        {
            Ending.Fails => expect.Codes,
            Ending.EchoesPeer => EchoedCodes(other, otherExpect),
            Ending.ConnectsThenCloses => [FlowErrorCode.Network],
            _ => [],
        };
        if (Array.IndexOf(allowed, error.Code) < 0)
        {
            problems.Add($"the {side} failed with {error.Code} ({error.Message}); expected {(expect.Ending == Ending.EchoesPeer ? "the peer's " + string.Join("|", allowed) : expect)}");
        }
        else if (expect.ReasonHolds is { } words && !error.Message.Contains(words, StringComparison.OrdinalIgnoreCase))
        {
            problems.Add($"the {side} failed with {error.Code}, but its reason \"{error.Message}\" does not say \"{words}\"");
        }

        if (error.Message.Contains("did not finish within", StringComparison.Ordinal))
        {
            problems.Add($"the {side} was ended by its handshake timeout, not by the attack: it waited for a message that could not come");
        }

        return (expect.Ending == Ending.EchoesPeer ? "echoed " : "") + error.Code;
    }

    /// <summary>
    /// What a side that echoes its peer may fail with: the code the peer failed with, which it sent in its TearDown,
    /// or Network when the peer failed with Network (it sends no TearDown then). For a peer that cannot be watched (a
    /// manager), the codes that peer is expected to fail with.
    /// </summary>
    private static FlowErrorCode[] EchoedCodes(Task<ManagedConnection>? other, Expect otherExpect)
    {
        if (other is { IsFaulted: true } && other.Exception?.InnerException is FlowException peer)
        {
            return [peer.Code];
        }

        return otherExpect.Ending == Ending.Fails ? [.. otherExpect.Codes.Append(FlowErrorCode.Network).Distinct()] : [FlowErrorCode.Network];
    }
}
