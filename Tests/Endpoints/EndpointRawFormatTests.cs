using FlowOrleans.Transport.Endpoints;

namespace FlowOrleans.Tests.Endpoints;

/// <summary><see cref="Endpoint.Format"/>, after Vanadium's <c>naming.FormatEndpoint</c>: raw fields, those not given left empty.</summary>
[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class EndpointRawFormatTests
{
    private static readonly RoutingId Rid = new(0x0102030405060708UL, 0x090a0b0c0d0e0f10UL);

    [Fact]
    public void FieldsNotGivenStayEmpty()
    {
        Assert.Equal("@6@tcp@10.0.0.7:4000@@@@@@", Endpoint.Format("tcp", "10.0.0.7:4000"));
        Assert.Equal("@6@ws@@@@@@@", Endpoint.Format("ws", string.Empty)); // not ":0" as a parsed endpoint prints
    }

    [Fact]
    public void EachGivenFieldLandsInItsPlace()
    {
        Assert.Equal($"@6@tcp@h:1@@{Rid}@@@@", Endpoint.Format("tcp", "h:1", routingId: Rid));
        Assert.Equal("@6@tcp@h:1@@00000000000000000000000000000000@@@@", Endpoint.Format("tcp", "h:1", routingId: RoutingId.Null));
        Assert.Equal("@6@tcp@h:1@@@m@@@", Endpoint.Format("tcp", "h:1", servesMountTable: true));
        Assert.Equal("@6@tcp@h:1@@@s@@@", Endpoint.Format("tcp", "h:1", servesMountTable: false));
        Assert.Equal("@6@tcp@h:1@r1,r2@@@@@", Endpoint.Format("tcp", "h:1", routes: ["r1", "r2"]));
        Assert.Equal("@6@tcp@h:1@@@m@prod:db,prod:web@@", Endpoint.Format("tcp", "h:1", servesMountTable: true, blessingNames: ["prod:db", "prod:web"]));
    }

    [Fact]
    public void NothingIsEscaped()
    {
        Assert.Equal("@6@tcp@h:1@@@@a@b.example@@", Endpoint.Format("tcp", "h:1", blessingNames: ["a@b.example"]));
        Assert.Equal("@6@tcp@h:1@@@@@s@@@@", Endpoint.Format("tcp", "h:1", blessingNames: ["@s@@"]));
    }

    [Fact]
    public void AFullyFormattedEndpointParsesToTheSameEndpoint()
    {
        var text = Endpoint.Format("tcp", "127.0.0.1:8100", Rid, servesMountTable: false, blessingNames: ["server"]);
        Assert.Equal(Endpoint.Create("tcp", "127.0.0.1:8100", Rid, ["server"]), Endpoint.Parse(text));
        Assert.Equal(Endpoint.Parse(text).ToString(), text);
    }
}
