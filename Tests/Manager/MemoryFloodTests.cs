using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using FlowOrleans.Tests.Connections;
using FlowOrleans.Transport;
using FlowOrleans.Transport.Connections;
using FlowOrleans.Transport.Flows;
using FlowOrleans.Transport.Messages;
using static FlowOrleans.Tests.Connections.ConnectionTestKit;

namespace FlowOrleans.Tests.Manager;

/// <summary>The flood tests run alone: each measures the process's heap, which other tests would disturb.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MemoryFloodCollection
{
    public const string Name = "Memory floods";
}

/// <summary>
/// Floods from hostile peers (docs/security.md, "Transport: memory budgets"), authenticated and not: each checks that
/// the server's memory stays within its stated budget, by the server's own counters and by a generous bound on the
/// process's heap (the floods made a server hold hundreds of megabytes before the budgets), and that a legitimate
/// client dials and echoes meanwhile.
/// </summary>
[Trait(TestKinds.Name, TestKinds.Socket)]
[Collection(MemoryFloodCollection.Name)]
public sealed class MemoryFloodTests
{
    /// <summary>Heap growth allowed beyond what a flood's budget lets the server hold: pools, caches, the test's own.</summary>
    private const long HeapSlack = 64L * 1024 * 1024;

    private static ReadOnlySequence<byte> Bytes(int n) => new(new byte[n]);

    // 32 MB on the wire that the rogue never reads the answers to: each once queued an acknowledgement of its own.
    [Fact]
    public Task ALameDuckFloodLeavesOneAcknowledgementWaiting() => ControlFloodAsync(new EnterLameDuck(), 16_000_000);

    [Fact]
    public Task APingFloodLeavesOnlyTheLatestAnswerWaiting() => ControlFloodAsync(new HealthCheckRequest(7), 12_000_000);

    [Fact]
    public async Task OpensPastTheFlowLimitBeyondTheAllowanceAreAProtocolViolation()
    {
        await using var server = await FloodServer.StartAsync(o => o.Connection.MaxConcurrentFlows = 64);
        await using var rogue = await RoguePeer.DialAsync(server.Endpoint);
        var victim = await server.ConnectionToAsync(rogue.RoutingId);
        await OpenFlowsAsync(rogue, 64);
        await WaitUntilAsync(() => server.Held == 64);
        var before = FloodServer.Heap();

        // Each refusal once waited, about 200 bytes of heap, for a rogue that never reads them.
        await FloodOpensAsync(rogue, firstId: RogueFlow(64), count: 1_000_000, victim);

        await victim.Closed.WaitAsync(TestTimeout);
        Assert.Equal(FlowErrorCode.BadArg, victim.CloseReason!.Code);
        Assert.Contains("past the limit", victim.CloseReason.Message);
        Assert.Equal(ManagedConnection.FlowLimitAllowance, victim.Counters.FlowsRefused);
        Assert.InRange(FloodServer.Heap() - before, long.MinValue, HeapSlack);
        await server.EchoWorksAsync();
    }

    [Fact]
    public async Task RefusalsPilingUpPastTheControlBudgetDisconnectThePeer()
    {
        await using var server = await FloodServer.StartAsync();
        await using var rogue = await RoguePeer.DialAsync(server.Endpoint);
        var victim = await server.ConnectionToAsync(rogue.RoutingId);
        _ = victim.EnterLameDuckAsync(); // never acknowledged: the rogue reads nothing
        var before = FloodServer.Heap();

        // Every open is refused; the refusals (about 60 bytes each on the wire) soon fill what the sockets hold.
        await FloodOpensAsync(rogue, firstId: 1, count: 1_000_000, victim);

        await victim.Closed.WaitAsync(TestTimeout);
        Assert.Equal(FlowErrorCode.BadArg, victim.CloseReason!.Code);
        Assert.Contains("control messages", victim.CloseReason.Message);
        Assert.InRange(FloodServer.Heap() - before, long.MinValue, HeapSlack);
        await server.EchoWorksAsync();
    }

    [Fact]
    public async Task CreditBeyondTheWindowsIsHeldToTheSharedCreditOncePerConnection()
    {
        await using var server = await FloodServer.StartAsync();
        await using var rogue = await RoguePeer.DialAsync(server.Endpoint);
        var victim = await server.ConnectionToAsync(rogue.RoutingId);
        var options = victim.Options;
        const int flows = 256;
        await OpenFlowsAsync(rogue, flows);
        await WaitUntilAsync(() => server.Held == flows);

        // On every flow the rogue sends a whole initial window plus the whole shared credit: once, the shared credit
        // was allowed again on each flow.
        long peak = 0;
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                peak = Math.Max(peak, victim.Counters.BufferedBytes);
                await Task.Delay(1);
            }
        });
        var chunk = Bytes(16_000);
        try
        {
            for (var i = 0; i < flows && !victim.Closed.IsCompleted; i++)
            {
                var id = RogueFlow(i);
                for (long sent = 0; sent < options.InitialFlowWindow + options.SharedCredit; sent += 4 * 16_000)
                {
                    await rogue.SendAsync(new Data(id, DataFlags.None, chunk), new Data(id, DataFlags.None, chunk), new Data(id, DataFlags.None, chunk), new Data(id, DataFlags.None, chunk));
                }
            }
        }
        catch (FlowException)
        {
            // Cut off, as it should be.
        }

        await victim.Closed.WaitAsync(TestTimeout);
        await sampling.CancelAsync();
        await sampler;
        Assert.Equal(FlowErrorCode.BadArg, victim.CloseReason!.Code);
        Assert.Contains("beyond its credit", victim.CloseReason.Message);
        Assert.InRange(peak, 0, options.ReceiveBudget);
        await server.EchoWorksAsync();
    }

    [Fact]
    public async Task AThousandTwentyFourFullWindowsStayWithinTheReceiveBudget()
    {
        const int flows = 1024;
        await using var server = await FloodServer.StartAsync(o => o.Connection.MaxConcurrentFlows = flows + 1);
        await using var rogue = await RoguePeer.DialAsync(server.Endpoint);
        rogue.TrackCredit();
        var victim = await server.ConnectionToAsync(rogue.RoutingId);
        var options = victim.Options;
        var before = FloodServer.Heap();

        // Flow 1 is drained by the server and gets the bulk of a record; each of the 1,024 others opens with one byte
        // riding behind it. Once, that byte kept the whole record alive after flow 1 read its part.
        await rogue.SendAsync(new OpenFlow(1, 64 * 1024, DataFlags.None, Bytes(0)));
        const int bulk = 60_000;
        for (var i = 0; i < flows; i++)
        {
            await rogue.WaitForCreditAsync(1, (long)(i + 1) * bulk);
            await rogue.SendAsync(new Data(1, DataFlags.None, Bytes(bulk)), new OpenFlow(RogueFlow(i), 64 * 1024, DataFlags.None, Bytes(1)));
        }

        // Then it fills every window the server granted.
        for (var i = 0; i < flows; i++)
        {
            await rogue.WaitForCreditAsync(RogueFlow(i), 1);
        }

        await FillGrantedWindowsAsync(rogue, flows, sent: 1);

        await WaitUntilAsync(
            () => victim.Counters.RecordsReceived >= rogue.RecordsSent && server.Drained == (long)flows * bulk,
            () => $"{victim.Counters.RecordsReceived} records read, {server.Drained} bytes drained");

        var c = victim.Counters;
        var granted = Enumerable.Range(0, flows).Sum(i => rogue.Granted(RogueFlow(i)));
        Assert.Equal(granted, c.BufferedBytes); // every window is full ...
        Assert.InRange(c.BufferedBytes, 0, options.ReceiveBudget); // ... and all of them fit the budget
        Assert.InRange(c.ReservedWindowBytes, 0, options.ReceiveBudget);
        Assert.InRange(c.RetainedBufferBytes, c.BufferedBytes, (long)(2.1 * c.BufferedBytes) + ((flows + 1L) * 2 * SegmentQueue.PackedBlock));
        Assert.InRange(FloodServer.Heap() - before, long.MinValue, (2 * options.ReceiveBudget) + HeapSlack);
        Assert.False(victim.Closed.IsCompleted);
        await server.EchoWorksAsync();
    }

    [Fact]
    public async Task TheManagersBudgetBoundsWhatAllItsConnectionsBuffer()
    {
        const long total = 12L * 1024 * 1024;
        const int flows = 64;
        var log = new CapturingLogger();
        using var loggers = new Microsoft.Extensions.Logging.LoggerFactory([new CapturingLoggerProvider(log)]);
        await using var server = await FloodServer.StartAsync(o =>
        {
            o.Connection.ReceiveBudget = 8L * 1024 * 1024;
            o.Connection.MaxConcurrentFlows = flows;
            o.TotalReceiveBudget = total;
            o.LoggerFactory = loggers;
        });

        // Two connections, each filling every window its own 8 MiB budget would let it have: 16 MiB in all.
        var rogues = new List<RoguePeer>();
        var victims = new List<ManagedConnection>();
        try
        {
            for (var r = 0; r < 2; r++)
            {
                var rogue = await RoguePeer.DialAsync(server.Endpoint);
                rogues.Add(rogue);
                rogue.TrackCredit();
                var victim = await server.ConnectionToAsync(rogue.RoutingId);
                victims.Add(victim);
                await OpenFlowsAsync(rogue, flows);
                await WaitUntilAsync(() => victim.Counters.FlowsAccepted + victim.Counters.FlowsRefused == flows);
                await WaitUntilAsync(() => Enumerable.Range(0, flows).Count(i => rogue.Granted(RogueFlow(i)) > 0) == victim.Counters.FlowsAccepted);
                await FillGrantedWindowsAsync(rogue, flows);

                await WaitUntilAsync(() => victim.Counters.RecordsReceived >= rogue.RecordsSent);
            }

            Assert.InRange(victims.Sum(v => v.Counters.BufferedBytes), 0, total);
            Assert.InRange(server.Manager.ReservedReceiveBytes, 0, total);
            Assert.True(victims[1].Counters.FlowsRefused > 0, "the second connection found the manager's budget spent");

            // The operator hears of it once a connection, with the settings to raise, however many flows were refused.
            var warnings = log.Entries.Where(e => e.Message.Contains("no receive budget left", StringComparison.Ordinal)).ToList();
            Assert.Equal(victims.Count(v => v.Counters.FlowsRefused > 0), warnings.Count);
            Assert.All(warnings, w =>
            {
                Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Warning, w.Level);
                Assert.Contains("TotalReceiveBudget", w.Message, StringComparison.Ordinal);
            });
            Assert.All(victims, v => Assert.False(v.Closed.IsCompleted));
        }
        finally
        {
            foreach (var rogue in rogues)
            {
                await rogue.DisposeAsync();
            }
        }

        // What they held comes back when they leave, and others get in again.
        await WaitUntilAsync(() => server.Manager.ReservedReceiveBytes == 0, () => $"{server.Manager.ReservedReceiveBytes} bytes still reserved");
        await server.EchoWorksAsync();
    }

    [Fact]
    public async Task FramesAboveTheHandshakeLimitAreRefusedBeforeTheyAreBuffered()
    {
        await using var server = await FloodServer.StartAsync(o => o.Connection.HandshakeTimeout = TimeSpan.FromMinutes(5));
        var before = FloodServer.Heap();

        // 300 connections each start a frame of 1 MiB, allowed once the peer has authenticated, and leave it one byte
        // short: once, each was buffered whole until the handshake timed out.
        var peers = await RawPeer.ConnectAsync(server.Endpoint, 300);
        try
        {
            const int length = 1024 * 1024;
            var frame = new byte[4 + length - 1];
            BinaryPrimitives.WriteInt32BigEndian(frame, length);
            await Task.WhenAll(peers.Select(p => p.TrySendAsync(frame)));

            await WaitUntilAsync(() => peers.All(p => p.Closed.IsCompleted), () => $"{peers.Count(p => p.Closed.IsCompleted)} of 300 closed");
            await WaitUntilAsync(() => server.Manager.PendingHandshakeCount == 0);
            Assert.InRange(FloodServer.Heap() - before, long.MinValue, HeapSlack);
            await server.EchoWorksAsync();
        }
        finally
        {
            RawPeer.DisposeAll(peers);
        }
    }

    [Fact]
    public async Task HalfOpenConnectionsPastTheCapAreClosedAtOnce()
    {
        await using var server = await FloodServer.StartAsync(o => o.Connection.HandshakeTimeout = TimeSpan.FromMinutes(5));
        var cap = new Transport.Manager.FlowManagerOptions().MaxPendingHandshakes;
        var before = FloodServer.Heap();

        // 2,000 connections that never say a word: all but the newest 128 are closed at once.
        var peers = await RawPeer.ConnectAsync(server.Endpoint, 2_000);
        try
        {
            await WaitUntilAsync(() => peers.Count(p => p.Closed.IsCompleted) >= peers.Length - cap,
                () => $"{peers.Count(p => p.Closed.IsCompleted)} of {peers.Length} closed");
            Assert.InRange(server.Manager.PendingHandshakeCount, 0, cap);
            Assert.InRange(FloodServer.Heap() - before, long.MinValue, HeapSlack);

            // A peer that completes its handshake gets in: it displaces the oldest idle one.
            await server.EchoWorksAsync();
            Assert.InRange(server.Manager.PendingHandshakeCount, 0, cap - 1);
        }
        finally
        {
            RawPeer.DisposeAll(peers);
        }
    }

    /// <summary>
    /// A rogue that sends <paramref name="message"/> <paramref name="count"/> times and never reads the answers leaves
    /// the server's control queue within its budget and the server up.
    /// </summary>
    private static async Task ControlFloodAsync(Message message, long count)
    {
        await using var server = await FloodServer.StartAsync();
        await using var rogue = await RoguePeer.DialAsync(server.Endpoint);
        var victim = await server.ConnectionToAsync(rogue.RoutingId);
        var before = FloodServer.Heap();

        await rogue.SendRepeatedAsync(message, count);
        await WaitUntilAsync(() => victim.Counters.RecordsReceived >= rogue.RecordsSent, () => $"{victim.Counters.RecordsReceived} records read");

        Assert.InRange(victim.Counters.QueuedControlBytes, 0, victim.Options.ControlBudget);
        Assert.False(victim.Closed.IsCompleted);
        Assert.InRange(FloodServer.Heap() - before, long.MinValue, HeapSlack);
        await server.EchoWorksAsync();
    }

    /// <summary>The <paramref name="i"/>th flow a rogue opens after flow 1 (which the server drains).</summary>
    private static ulong RogueFlow(int i) => (ulong)(3 + (2 * i));

    /// <summary>Opens <paramref name="count"/> flows (<see cref="RogueFlow"/>) in one record; the server holds them unread.</summary>
    private static Task OpenFlowsAsync(RoguePeer rogue, int count) =>
        rogue.SendAsync([.. Enumerable.Range(0, count).Select(i => new OpenFlow(RogueFlow(i), 64 * 1024, DataFlags.None, Bytes(0)))]);

    /// <summary>Fills the window the server granted on each of <paramref name="count"/> flows, less <paramref name="sent"/>, in 16 KB pieces of four flows a record.</summary>
    private static async Task FillGrantedWindowsAsync(RoguePeer rogue, int count, long sent = 0)
    {
        var pieces = Enumerable.Range(0, count)
            .SelectMany(i => Split(rogue.Granted(RogueFlow(i)) - sent, 16_000).Select(n => new Data(RogueFlow(i), DataFlags.None, Bytes(n))))
            .Chunk(4);
        foreach (var record in pieces)
        {
            await rogue.SendAsync(record);
        }
    }

    /// <summary>Sends <paramref name="count"/> opens of new flows in records of about 64 KiB, until the victim cuts it off.</summary>
    private static async Task FloodOpensAsync(RoguePeer rogue, ulong firstId, int count, ManagedConnection victim)
    {
        var record = new ArrayBufferWriter<byte>();
        var id = firstId;
        try
        {
            for (var i = 0; i < count && !victim.Closed.IsCompleted; i++, id += 2)
            {
                MessageCodec.Write(record, new OpenFlow(id, 64 * 1024, DataFlags.None, Bytes(0)));
                if (record.WrittenCount > 64 * 1024 - 32 || i == count - 1)
                {
                    await rogue.SendPlaintextAsync(record.WrittenMemory);
                    record.ResetWrittenCount();
                }
            }
        }
        catch (FlowException)
        {
            // Cut off, as it should be.
        }
    }

    private static IEnumerable<int> Split(long total, int piece)
    {
        for (var left = total; left > 0; left -= piece)
        {
            yield return (int)Math.Min(left, piece);
        }
    }

    /// <summary>A bare tcp connection to a listener, speaking no protocol, that notices when the other side closes it.</summary>
    private sealed class RawPeer(Socket socket)
    {
        private readonly Socket _socket = socket;
        private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Closed => _closed.Task;

        public static async Task<RawPeer[]> ConnectAsync(Transport.Endpoints.Endpoint server, int count)
        {
            var address = IPEndPoint.Parse(server.Address);
            var peers = new List<RawPeer>();
            foreach (var batch in Enumerable.Range(0, count).Chunk(50))
            {
                peers.AddRange(await Task.WhenAll(batch.Select(_ => ConnectOneAsync(address))));
            }

            return [.. peers];
        }

        private static async Task<RawPeer> ConnectOneAsync(IPEndPoint address)
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync(address).WaitAsync(TestTimeout);
            var peer = new RawPeer(socket);
            _ = peer.WatchAsync();
            return peer;
        }

        public static void DisposeAll(IEnumerable<RawPeer> peers)
        {
            foreach (var peer in peers)
            {
                peer._socket.Dispose();
            }
        }

        public async Task TrySendAsync(ReadOnlyMemory<byte> bytes)
        {
            try
            {
                while (!bytes.IsEmpty)
                {
                    var n = await _socket.SendAsync(bytes[..Math.Min(bytes.Length, 64 * 1024)]).AsTask().WaitAsync(TestTimeout);
                    bytes = bytes[n..];
                }
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or TimeoutException)
            {
                // Closed by the other side, which is the point.
            }
        }

        private async Task WatchAsync()
        {
            try
            {
                while (await _socket.ReceiveAsync(new byte[256]) > 0)
                {
                }
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
            }

            _closed.TrySetResult();
        }
    }
}
