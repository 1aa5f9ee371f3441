using FlowOrleans.Transport;
using FlowOrleans.Transport.Endpoints;
using FlowOrleans.Transport.Flows;
using FlowOrleans.Transport.Manager;
using FlowOrleans.Transport.Security;
using static FlowOrleans.Tests.Connections.ConnectionTestKit;

namespace FlowOrleans.Tests.Manager;

/// <summary>
/// Open, request, reply on the manager's path (issue 21): the request rides with the open (bounded here: best-effort
/// under load), and the acceptor's acknowledgement takes no record beyond its reply's and the acknowledgement's own
/// (it rides with the reply when the application answers first); an accepted flow whose application sends nothing is
/// acknowledged all the same.
/// </summary>
[Trait(TestKinds.Name, TestKinds.Socket)]
public sealed class AcknowledgementRidingTests
{
    private static async Task<(FlowManager Server, FlowManager Client, Endpoint Endpoint, IPeerAuthorizer Authorizer)> StartAsync()
    {
        var server = new FlowManager();
        var listener = await server.ListenAsync("tcp", "127.0.0.1:0");
        var principal = Principal.CreateInMemory();
        principal.DefaultBlessings = principal.BlessSelf("client");
        var client = new FlowManager(new FlowManagerOptions { RoutingId = RoutingId.Null, Principal = principal });
        return (server, client, listener.Endpoint, PeerAuthorizers.AllowEveryone(principal));
    }

    private static bool IsAcknowledged(IFlow flow) => ((Flow)flow).Send.IsAcknowledged;

    [Fact]
    public async Task TheRequestRidesWithTheOpenAndTheAcknowledgementWithTheReply()
    {
        var (server, client, endpoint, authorizer) = await StartAsync();
        await using var _s = server;
        await using var _c = client;

        // A first flow sets the connection up; the connection's own pings after the handshake are let through.
        var first = await client.DialAsync(endpoint, authorizer);
        await first.WriteAsync(new byte[1]);
        var firstAccepted = await server.AcceptAsync().AsTask().WaitAsync(TestTimeout);
        var clientSide = first.Connection.Counters;
        var serverSide = firstAccepted.Connection.Counters;
        await WaitUntilAsync(() => first.Connection.Rtt > TimeSpan.Zero && firstAccepted.Connection.Rtt > TimeSpan.Zero);
        await WaitUntilAsync(() => clientSide.RecordsReceived == serverSide.RecordsSent && serverSide.RecordsReceived == clientSide.RecordsSent);
        var clientSent = clientSide.RecordsSent;
        var serverSent = serverSide.RecordsSent;
        var clientChecks = clientSide.HealthChecksSent;
        var serverChecks = serverSide.HealthChecksSent;

        var flow = await client.DialAsync(endpoint, authorizer);
        await flow.WriteAsync("request"u8.ToArray());
        var accepted = await server.AcceptAsync().AsTask().WaitAsync(TestTimeout);
        var request = new byte[7];
        await ReadExactlyAsync(accepted, request);
        await accepted.WriteAsync("reply"u8.ToArray());
        var reply = new byte[5];
        await ReadExactlyAsync(flow, reply);

        await WaitUntilAsync(() => IsAcknowledged(flow), () => "the client's flow was never acknowledged");
        Assert.Equal("request"u8.ToArray(), request);
        Assert.Equal("reply"u8.ToArray(), reply);
        // The request rides with the open: one record on a quiet machine. The connection's own health checks (its
        // startup RTT samples, a refresh after a second on a slow machine) may add records of their own, or ride in
        // these. The open goes out eagerly (a peer may accept before anyone writes), so when the writer's thread builds
        // the record before the request is written, as it did once with a core kept busy, the open goes alone: 2 records.
        AssertRecordsBesideHealthChecks(clientSide.RecordsSent - clientSent, clientSide.HealthChecksSent - clientChecks, 2, "the open and the request");

        // The acknowledgement rides with the reply when the application answers before the deferred acknowledgement
        // runs; on a busy machine that runs first as often as not (the benchmark's records per flow measure the
        // gain), so this bounds it: never more than the acknowledgement and the reply, and never a record per byte.
        AssertRecordsBesideHealthChecks(serverSide.RecordsSent - serverSent, serverSide.HealthChecksSent - serverChecks, 2, "the acknowledgement and the reply");
    }

    private static void AssertRecordsBesideHealthChecks(long records, long healthChecks, int most, string what)
    {
        Assert.True(records >= 1 && records <= most + healthChecks, $"{what} took {records} records beside {healthChecks} health checks; expected at most {most}");
    }

    [Fact]
    public async Task AnAcceptedFlowWhoseApplicationSendsNothingIsAcknowledged()
    {
        var (server, client, endpoint, authorizer) = await StartAsync();
        await using var _s = server;
        await using var _c = client;

        var flow = await client.DialAsync(endpoint, authorizer);
        await flow.WriteAsync("request"u8.ToArray());
        await using var accepted = await server.AcceptAsync().AsTask().WaitAsync(TestTimeout);

        await WaitUntilAsync(() => IsAcknowledged(flow), () => "the client's flow was never acknowledged");
    }

    [Fact]
    public async Task AnOpenerCanSendFarBeyondTheSharedCreditToAnApplicationThatOnlyReads()
    {
        var (server, client, endpoint, authorizer) = await StartAsync();
        await using var _s = server;
        await using var _c = client;

        var payload = new byte[4 * 1024 * 1024];
        var flow = await client.DialAsync(endpoint, authorizer);
        var writing = Task.Run(async () =>
        {
            await flow.WriteAsync(payload);
            await flow.CloseWriteAsync();
        });
        var accepted = await server.AcceptAsync().AsTask().WaitAsync(TestTimeout);
        var received = await ReadToEndAsync(accepted).WaitAsync(TestTimeout);

        await writing.WaitAsync(TestTimeout);
        Assert.Equal(payload.Length, received.Length);
    }
}
