namespace FlowOrleans.Tests.Cluster;

/// <summary>End to end: the Silo program in its own process, this process as an Orleans client and outside peer.</summary>
[Trait(TestKinds.Name, TestKinds.Process)]
public sealed class SiloProcessTests
{
    [Fact]
    public async Task TheSiloProgramPrintsItsEndpointsAndServesAClientInAnotherProcess()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(180));
        var ct = cts.Token;
        await using var silo = await SiloProcess.StartAsync(ct);
        var siloEndpoint = Assert.Single(silo.Endpoints);
        Assert.True(Transport.Endpoints.Endpoint.TryParse(siloEndpoint, out _), siloEndpoint);

        await using var client = await ProcessClient.ConnectAsync(silo.GatewayPort, silo.ClusterId, ct);
        await ClientWalkthrough.RunAsync(client.Flows, silo, ct);
    }
}
