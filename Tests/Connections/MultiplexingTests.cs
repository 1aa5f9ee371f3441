using System.Security.Cryptography;
using FlowOrleans.Transport;
using FlowOrleans.Transport.Connections;
using FlowOrleans.Transport.Flows;
using static FlowOrleans.Tests.Connections.ConnectionTestKit;

namespace FlowOrleans.Tests.Connections;

[Trait(TestKinds.Name, TestKinds.Socket)]
public sealed class MultiplexingTests
{
    [Theory]
    [InlineData("memory")]
    [InlineData("tcp")]
    public async Task AThousandConcurrentFlowsMoveRandomDataBothWaysIntact(string protocol)
    {
        const int flows = 1000;
        // Each side opens 500 flows in a burst: the accept backlogs must hold them all, or the excess is refused.
        await using var peers = await ConnectAsync(protocol, dialerAcceptBacklog: flows, acceptorAcceptBacklog: flows);

        // The acceptor echoes a SHA-256 of what it read, while sending its own random bytes back at the same time.
        var server = Task.Run(async () =>
        {
            var tasks = new List<Task>();
            for (var i = 0; i < flows / 2; i++)
            {
                var flow = await peers.AcceptorAccepts.ReadAsync();
                tasks.Add(ExchangeAsync(flow, seed: (int)flow.Id));
            }

            await Task.WhenAll(tasks);
        });
        // Half the flows are opened by the dialer, half by the acceptor: flows are bidirectional on one connection.
        var fromAcceptor = Task.Run(async () =>
        {
            var tasks = new List<Task>();
            for (var i = 0; i < flows / 2; i++)
            {
                tasks.Add(ExchangeAsync(peers.Acceptor.OpenFlow(), seed: 100_000 + i));
            }

            await Task.WhenAll(tasks);
        });
        var acceptedByDialer = Task.Run(async () =>
        {
            var tasks = new List<Task>();
            for (var i = 0; i < flows / 2; i++)
            {
                var flow = await peers.DialerAccepts.ReadAsync();
                tasks.Add(ExchangeAsync(flow, seed: 200_000 + i));
            }

            await Task.WhenAll(tasks);
        });
        var clients = new List<Task>();
        for (var i = 0; i < flows / 2; i++)
        {
            clients.Add(ExchangeAsync(peers.Dialer.OpenFlow(), seed: 300_000 + i));
        }

        await Task.WhenAll(clients.Append(server).Append(fromAcceptor).Append(acceptedByDialer)).WaitAsync(TimeSpan.FromMinutes(2));
        Assert.Equal(flows, peers.Dialer.Counters.FlowsOpened + peers.Dialer.Counters.FlowsAccepted);
        Assert.Equal(0, peers.Dialer.Counters.FlowsRefused + peers.Acceptor.Counters.FlowsRefused);
        Assert.True(peers.Dialer.Counters.BufferedBytes <= new ConnectionOptions().ReceiveBudget);
    }

    /// <summary>
    /// Both ends of a flow run this: send a random-length random payload followed by its checksum, read the peer's
    /// payload and checksum, verify. Writing and reading run concurrently (full duplex).
    /// </summary>
    private static async Task ExchangeAsync(IFlow flow, int seed)
    {
        var random = new Random(seed);
        var payload = new byte[random.Next(0, 48 * 1024)];
        random.NextBytes(payload);
        var write = Task.Run(async () =>
        {
            var header = BitConverter.GetBytes(payload.Length);
            await flow.WriteAsync(header);
            for (var offset = 0; offset < payload.Length;)
            {
                var n = Math.Min(random.Next(1, 9000), payload.Length - offset);
                await flow.WriteAsync(payload.AsMemory(offset, n));
                offset += n;
            }

            await flow.WriteAsync(SHA256.HashData(payload));
            await flow.CloseWriteAsync();
        });
        var lengthBytes = new byte[4];
        await ReadExactlyAsync(flow, lengthBytes);
        var received = new byte[BitConverter.ToInt32(lengthBytes)];
        await ReadExactlyAsync(flow, received);
        var hash = new byte[32];
        await ReadExactlyAsync(flow, hash);
        Assert.Equal(hash, SHA256.HashData(received));
        Assert.Equal(0, await flow.ReadAsync(new byte[1]));
        await write;
        await flow.DisposeAsync();
    }

    [Theory]
    [InlineData("memory")]
    [InlineData("tcp")]
    public async Task AStoppedReaderDoesNotSlowOtherFlows(string protocol)
    {
        await using var peers = await ConnectAsync(protocol);
        var stalled = peers.Dialer.OpenFlow();
        var stalledAccepted = await peers.AcceptorAccepts.ReadAsync();

        // Fill the stalled flow's window; nobody reads it, so the writer blocks for credit.
        var stalledWrite = stalled.WriteAsync(new byte[8 * 1024 * 1024]).AsTask();
        await WaitUntilAsync(() => peers.Acceptor.Counters.BufferedBytes >= new ConnectionOptions().InitialFlowWindow);
        Assert.False(stalledWrite.IsCompleted);

        // Meanwhile other flows move far more than the stalled window, both ways.
        for (var i = 0; i < 8; i++)
        {
            var flow = peers.Dialer.OpenFlow();
            var data = RandomNumberGenerator.GetBytes(2 * 1024 * 1024);
            var send = Task.Run(async () => { await flow.WriteAsync(data); await flow.CloseWriteAsync(); });
            var accepted = await peers.AcceptorAccepts.ReadAsync();
            Assert.Equal(data, await ReadToEndAsync(accepted));
            await send.WaitAsync(TestTimeout);
            await accepted.DisposeAsync();
            await flow.DisposeAsync();
        }

        // The stalled flow's receive buffer never exceeded its window (plus one in-flight message of slack).
        Assert.InRange(peers.Acceptor.Counters.BufferedBytes, 1, new ConnectionOptions().InitialFlowWindow + 64 * 1024);
        Assert.False(stalledWrite.IsCompleted);

        // Once its reader resumes, the stalled flow completes too.
        var drain = ReadToEndAsync(stalledAccepted);
        await stalledWrite.WaitAsync(TestTimeout);
        await stalled.CloseWriteAsync();
        Assert.Equal(8 * 1024 * 1024, (await drain.WaitAsync(TestTimeout)).Length);
    }

    [Fact]
    public async Task TinyWindowsWithLargeMessagesMakeProgressWithoutDeadlock()
    {
        static void Tiny(ConnectionOptions o)
        {
            o.MinFlowWindow = 1;
            o.InitialFlowWindow = 1;
            o.MaxFlowWindow = 1;
            o.SharedCredit = 64 * 1024; // the least: one whole message
        }

        await using var peers = await ConnectAsync(dialerOptions: Tiny, acceptorOptions: Tiny);
        var flow = peers.Dialer.OpenFlow();
        var big = RandomNumberGenerator.GetBytes(30_000);
        var reply = RandomNumberGenerator.GetBytes(20_000);
        // Both directions at once, each far larger than the one-byte windows: a full-duplex deadlock check.
        var send = Task.Run(async () =>
        {
            await flow.WriteMessageAsync([big.AsMemory(0, 10_000), big.AsMemory(10_000)]);
            await flow.CloseWriteAsync();
        });
        var accepted = await peers.AcceptorAccepts.ReadAsync();
        var answer = Task.Run(async () =>
        {
            await accepted.WriteAsync(reply);
            await accepted.CloseWriteAsync();
        });
        var gotBig = ReadToEndAsync(accepted);
        var gotReply = ReadToEndAsync(flow);
        await Task.WhenAll(send, answer, gotBig, gotReply).WaitAsync(TimeSpan.FromMinutes(1));
        Assert.Equal(big, await gotBig);
        Assert.Equal(reply, await gotReply);
    }

    [Theory]
    [InlineData("memory")]
    [InlineData("tcp")]
    public async Task MessageBoundariesAreKeptWhenFragmentationIsDisabled(string protocol)
    {
        await using var peers = await ConnectAsync(protocol);
        var flow = peers.Dialer.OpenFlow();
        flow.DisableFragmentation();
        var sizes = new[] { 1, 10, 1000, 40_000, 65_536, 7, 65_000, 0x1234 };
        var messages = sizes.Select(n => RandomNumberGenerator.GetBytes(n)).ToArray();
        var send = Task.Run(async () =>
        {
            foreach (var m in messages)
            {
                await flow.WriteMessageAsync([m.AsMemory(0, m.Length / 2), m.AsMemory(m.Length / 2)]);
            }

            await flow.CloseWriteAsync();
        });
        var accepted = await peers.AcceptorAccepts.ReadAsync();
        foreach (var expected in messages)
        {
            Assert.Equal(expected, await accepted.ReadMessageAsync());
        }

        Assert.Null(await accepted.ReadMessageAsync());
        await send;

        var tooBig = new byte[65_537];
        var e = await Assert.ThrowsAsync<FlowException>(async () => await peers.Dialer.OpenFlow().WithFragmentationDisabled().WriteAsync(tooBig));
        Assert.Equal(FlowErrorCode.BadArg, e.Code);
    }

    [Fact]
    public async Task ClosingOneDirectionDeliversEndOfStreamWhileTheOtherGoesOn()
    {
        await using var peers = await ConnectAsync();
        var flow = peers.Dialer.OpenFlow();
        await flow.WriteAsync(new byte[] { 1, 2, 3 });
        await flow.CloseWriteAsync();
        var accepted = await peers.AcceptorAccepts.ReadAsync();
        Assert.Equal(new byte[] { 1, 2, 3 }, await ReadToEndAsync(accepted));
        var e = await Assert.ThrowsAsync<FlowException>(async () => await flow.WriteAsync(new byte[] { 4 }));
        Assert.Equal(FlowErrorCode.BadState, e.Code);

        // The other direction is still open.
        await accepted.WriteAsync(new byte[] { 9, 8 });
        await accepted.CloseWriteAsync();
        Assert.Equal(new byte[] { 9, 8 }, await ReadToEndAsync(flow));
        await flow.Closed.WaitAsync(TestTimeout);
        await accepted.Closed.WaitAsync(TestTimeout);
    }

    [Fact]
    public async Task DisposingAFlowRightAfterWritingLosesNoBytes()
    {
        await using var peers = await ConnectAsync(
            dialerOptions: o => { o.InitialFlowWindow = 16 * 1024; },
            acceptorOptions: o => { o.InitialFlowWindow = 16 * 1024; o.MaxFlowWindow = 16 * 1024; });
        var data = RandomNumberGenerator.GetBytes(1_000_000);
        var flow = peers.Dialer.OpenFlow();
        var send = Task.Run(async () =>
        {
            await flow.WriteAsync(data);
            await flow.DisposeAsync();
        });
        var accepted = await peers.AcceptorAccepts.ReadAsync();
        Assert.Equal(data, await ReadToEndAsync(accepted));
        await send.WaitAsync(TestTimeout);
    }

    [Fact]
    public async Task ClosingTheConnectionAbortsEveryOpenFlow()
    {
        var peers = await ConnectAsync();
        var flows = Enumerable.Range(0, 5).Select(_ => peers.Dialer.OpenFlow()).ToList();
        var accepted = new List<IFlow>();
        for (var i = 0; i < flows.Count; i++)
        {
            accepted.Add(await peers.AcceptorAccepts.ReadAsync());
        }

        var pendingReads = flows.Select(f => f.ReadAsync(new byte[10]).AsTask()).ToList();
        var remoteReads = accepted.Select(f => f.ReadAsync(new byte[10]).AsTask()).ToList();
        await peers.Dialer.CloseAsync();

        foreach (var read in pendingReads.Concat(remoteReads))
        {
            var e = await Assert.ThrowsAsync<FlowException>(() => read.WaitAsync(TestTimeout));
            Assert.Equal(FlowErrorCode.Aborted, e.Code);
        }

        var write = await Assert.ThrowsAsync<FlowException>(async () => await flows[0].WriteAsync(new byte[1]));
        Assert.Equal(FlowErrorCode.Aborted, write.Code);
        Assert.Throws<FlowException>(() => peers.Dialer.OpenFlow());
        await peers.Acceptor.Closed.WaitAsync(TestTimeout);
        Assert.Equal(FlowErrorCode.Aborted, peers.Acceptor.CloseReason!.Code);
        await AssertClosedCleanAsync(peers.Dialer);
        await AssertClosedCleanAsync(peers.Acceptor);
        await peers.Listener.DisposeAsync();
    }

    [Fact]
    public async Task AStreamViewCarriesBytesAndCancellationWorks()
    {
        await using var peers = await ConnectAsync();
        var flow = peers.Dialer.OpenFlow();
        await using var stream = flow.AsStream();
        await stream.WriteAsync(new byte[] { 5, 6, 7 });
        var accepted = await peers.AcceptorAccepts.ReadAsync();
        var buffer = new byte[3];
        await ReadExactlyAsync(accepted, buffer);
        Assert.Equal(new byte[] { 5, 6, 7 }, buffer);

        using var cts = new CancellationTokenSource();
        var read = accepted.ReadAsync(new byte[1], cts.Token).AsTask();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => read);
        // A cancelled read leaves the flow usable.
        await stream.WriteAsync(new byte[] { 42 });
        Assert.Equal(1, await accepted.ReadAsync(buffer));
        Assert.Equal(42, buffer[0]);
    }
}

internal static class FlowTestExtensions
{
    public static IFlow WithFragmentationDisabled(this IFlow flow)
    {
        flow.DisableFragmentation();
        return flow;
    }
}
