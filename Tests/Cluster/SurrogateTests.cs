using FlowOrleans.GrainInterfaces;
using FlowOrleans.Grains.Hosting;
using FlowOrleans.Transport;
using FlowOrleans.Transport.Endpoints;
using FlowOrleans.Transport.Manager;
using Microsoft.Extensions.DependencyInjection;
using Newtonsoft.Json;
using Orleans.Serialization;

namespace FlowOrleans.Tests.Cluster;

/// <summary>Transport values cross grain calls as themselves: each survives the Orleans serializer and copier intact.</summary>
[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class SurrogateTests : IDisposable
{
    private static readonly Endpoint Routed = Endpoint.Create(
        "tcp", "10.0.0.7:8100", RoutingId.NewRandom(), ["root:alice", "root:bob:phone"], ["3ded2baec30be87bfbef920de2c9baa5"], servesMountTable: true);

    private readonly ServiceProvider _services = new ServiceCollection().AddSerializer().BuildServiceProvider();

    private T RoundTrip<T>(T value)
    {
        var serializer = _services.GetRequiredService<Serializer>();
        return serializer.Deserialize<T>(serializer.SerializeToArray(value))!;
    }

    private T Copy<T>(T value) => _services.GetRequiredService<DeepCopier>().Copy(value)!;

    [Fact]
    public void EndpointsRoundTripEqual()
    {
        foreach (var endpoint in new[] { Routed, Endpoint.Parse("127.0.0.1:8100"), Endpoint.ForRoutingId(RoutingId.NewRandom()) })
        {
            Assert.Equal(endpoint, RoundTrip(endpoint));
            Assert.Equal(endpoint.ToString(), RoundTrip(endpoint).ToString());
            Assert.Equal(endpoint, Copy(endpoint));
        }
    }

    [Fact]
    public void RoutingIdsRoundTripEqual()
    {
        foreach (var id in new[] { RoutingId.NewRandom(), RoutingId.Null, new RoutingId(ulong.MaxValue, 1) })
        {
            Assert.Equal(id, RoundTrip(id));
            Assert.Equal(id, Copy(id));
        }
    }

    [Fact]
    public void ListenAddressesRoundTripEqual()
    {
        var address = ListenAddress.Parse("unix//run/flow.sock");
        Assert.Equal(address, RoundTrip(address));
        Assert.Equal(address, Copy(address));
    }

    [Fact]
    public void GrainRecordsCarryTypedValues()
    {
        var handle = new FlowHandle("silo", Guid.NewGuid(), Endpoint.Parse("127.0.0.1:1"), Routed, ["root:alice"], TimeSpan.FromMinutes(1));
        var back = RoundTrip(handle);
        Assert.Equal(handle.RemoteEndpoint, back.RemoteEndpoint);
        Assert.Equal(handle.LocalEndpoint, back.LocalEndpoint);
        Assert.Equal(handle.FlowId, back.FlowId);

        var status = new SiloFlowStatus(
            "silo", Routed.RoutingId, [Routed], [new ConnectionStatus(Routed, ["root:alice"], TimeSpan.FromMilliseconds(1), 2, TimeSpan.FromMinutes(3))], 3, [new SiloPin("p", Routed, Routed, 1, TimeSpan.Zero)]);
        var statusBack = RoundTrip(status);
        Assert.Equal(Routed.RoutingId, statusBack.RoutingId);
        Assert.Equal([Routed], statusBack.Endpoints);
        Assert.Equal(Routed, Assert.Single(statusBack.Connections).RemoteEndpoint);
        Assert.Equal(Routed, Assert.Single(statusBack.Pins).Endpoint);

        var request = new PinRequest(Routed, ["root:alice"], TimeSpan.FromSeconds(5));
        Assert.Equal(Routed, RoundTrip(request).Endpoint);
        Assert.Equal(Routed, Assert.Single(RoundTrip(new RoutingIdRegistration("silo", [Routed], DateTimeOffset.UnixEpoch)).Endpoints));
    }

    [Fact]
    public void JsonGrainStateKeepsEndpointsAsTheirPrintedStrings()
    {
        var settings = new JsonSerializerSettings { TypeNameHandling = TypeNameHandling.Auto };
        TransportJsonConverters.AddTo(settings);
        var state = new PinState { Name = "p", Request = new PinRequest(Routed, new List<string> { "root:alice" }, TimeSpan.FromSeconds(5)) };

        var json = JsonConvert.SerializeObject(state, settings);
        Assert.Contains($"\"Endpoint\":\"{Routed}\"", json, StringComparison.Ordinal);
        Assert.Equal(Routed, JsonConvert.DeserializeObject<PinState>(json, settings)!.Request!.Endpoint);

        var registration = new RoutingIdRegistration("silo", new[] { Routed }, DateTimeOffset.UnixEpoch);
        var back = JsonConvert.DeserializeObject<RoutingIdRegistration>(JsonConvert.SerializeObject(registration, settings), settings)!;
        Assert.Equal(Routed, Assert.Single(back.Endpoints));
        Assert.Equal(Routed.RoutingId, JsonConvert.DeserializeObject<RoutingId>(JsonConvert.SerializeObject(Routed.RoutingId, settings), settings));
    }

    [Fact]
    public void AMalformedEndpointSurrogateIsBadArg()
    {
        var e = Assert.Throws<FlowException>(() => new EndpointConverter().ConvertFromSurrogate(new EndpointSurrogate("not an endpoint")));
        Assert.Equal(FlowErrorCode.BadArg, e.Code);
    }

    public void Dispose() => _services.Dispose();
}
